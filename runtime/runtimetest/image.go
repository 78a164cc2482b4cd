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
	buildDir  string
	buildErr  error
)

// BuildTestBinary builds the static test program (CGO_ENABLED=0) once per
// process and returns its path. The go command must be on PATH.
func BuildTestBinary() (string, error) {
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "testbin-")
		if buildErr != nil {
			return
		}
		out := filepath.Join(buildDir, "testbin")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "github.com/setpoint-dev/setpoint/runtime/internal/testbin")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("runtimetest: build testbin: %v\n%s", err, b)
		}
	})
	if buildErr != nil {
		return "", buildErr
	}
	return filepath.Join(buildDir, "testbin"), nil
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

// TestImageArchive is TestImage for callers without a testing.TB.
func TestImageArchive() ([]byte, error) {
	bin, err := BuildTestBinary()
	if err != nil {
		return nil, err
	}
	b, err := image.FromBinary(TestImageName, bin)
	if err != nil {
		return nil, err
	}
	return b.Bytes()
}

// Script returns the arguments that make the test program run steps (see
// package testprog: print, eprint, exit, sleep, ignore-term, serve, get,
// alloc, wait, env).
func Script(steps ...string) []string { return steps }
