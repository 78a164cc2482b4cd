package runtimetest

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime/image"
)

// TestImageName is the name of the image TestImage builds. Its entrypoint is
// /testbin, which runs the script given as its arguments (see Script); it
// has an empty /tmp and runs as root.
const TestImageName = "setpoint.test/testbin:v1"

// NonRootImageName is TestImageName's program in an image whose user is
// 65534:65534 (nobody), built by TestImageWithUser.
const NonRootImageName = "setpoint.test/testbin-nonroot:v1"

// TestBinary is the path of the test program inside TestImage.
const TestBinary = "/testbin"

// TestProgramPackage is the Go package of the test program.
const TestProgramPackage = "github.com/setpoint-dev/setpoint/runtime/internal/testbin"

var (
	buildOnce sync.Once
	testBin   []byte
	buildErr  error
	images    sync.Map // name -> []byte archive
)

// testBinary builds the static test program once per process.
func testBinary() ([]byte, error) {
	buildOnce.Do(func() {
		testBin, buildErr = image.BuildGo(context.Background(), TestProgramPackage, image.GoBuildOptions{})
		if buildErr != nil {
			buildErr = fmt.Errorf("runtimetest: build the test program (needs the go command): %w", buildErr)
		}
	})
	return testBin, buildErr
}

// TestImageWithUser returns an OCI image archive named name holding the
// test program as /testbin (its entrypoint), an empty /tmp, and user as the
// image's configured user. Archives are built once per process and name;
// callers must not modify them.
func TestImageWithUser(name, user string) ([]byte, error) {
	key := name + "\x00" + user
	if b, ok := images.Load(key); ok {
		return b.([]byte), nil
	}
	bin, err := testBinary()
	if err != nil {
		return nil, err
	}
	b := image.NewBuilder(image.Config{Name: name, Entrypoint: []string{TestBinary}, Env: []string{"PATH=/"}, User: user})
	if err := b.AddBytes(TestBinary, bin, 0o755); err != nil {
		return nil, err
	}
	if err := b.Mkdir("/tmp", fs.ModeSticky|0o777); err != nil {
		return nil, err
	}
	archive, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	images.Store(key, archive)
	return archive, nil
}

// TestImage returns an OCI image archive named TestImageName holding the
// test program as /testbin, built with image.Builder. It fails tb when the
// program cannot be built.
func TestImage(tb testing.TB) []byte {
	tb.Helper()
	b, err := TestImageArchive()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestImageArchive is TestImage for callers without a testing.TB. The
// archive is built once per process; callers must not modify it.
func TestImageArchive() ([]byte, error) { return TestImageWithUser(TestImageName, "") }

// Script returns the arguments that make the test program run steps (see
// the package documentation).
func Script(steps ...string) []string { return steps }
