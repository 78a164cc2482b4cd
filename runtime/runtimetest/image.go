package runtimetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime/image"
)

// TestImageName is the name of the image TestImage builds. Its entrypoint is
// /testbin, which runs the script given as its arguments (see Script).
const TestImageName = "setpoint.test/testbin:v1"

// TestBinary is the path of the test program inside TestImage.
const TestBinary = "/testbin"

var (
	buildOnce sync.Once
	archive   []byte
	buildErr  error
)

// buildTestImage builds the static test program (CGO_ENABLED=0) in a
// temporary directory, packs it into an image and removes the directory.
func buildTestImage() ([]byte, error) {
	dir, err := os.MkdirTemp("", "testbin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "testbin")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "github.com/setpoint-dev/setpoint/runtime/internal/testbin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("runtimetest: build testbin (needs the go command): %v\n%s", err, b)
	}
	b, err := image.FromBinary(TestImageName, out)
	if err != nil {
		return nil, err
	}
	return b.Bytes()
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
func TestImageArchive() ([]byte, error) {
	buildOnce.Do(func() { archive, buildErr = buildTestImage() })
	return archive, buildErr
}

// Script returns the arguments that make the test program run steps (see
// package testprog: print, eprint, exit, sleep, ignore-term, serve, get,
// alloc, wait, env).
func Script(steps ...string) []string { return steps }
