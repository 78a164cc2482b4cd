package image

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/setpoint-dev/setpoint/runtime"
)

// GoBuildOptions tune BuildGo.
type GoBuildOptions struct {
	// Dir is where `go build` runs, which decides the module pkg is
	// resolved in. Default: the current directory.
	Dir string
	// Env is added to the build's environment (after CGO_ENABLED=0 and
	// GOOS=linux), for example GOARCH=arm64 or GOFLAGS=-mod=mod.
	Env []string
}

// BuildGo builds the Go main package pkg (an import path, or a directory
// starting with ./ or / as `go build` takes it) into a static Linux binary
// (CGO_ENABLED=0, -trimpath, symbols stripped) and returns its contents.
// It needs the go command; its error holds the compiler's output.
func BuildGo(ctx context.Context, pkg string, opts GoBuildOptions) ([]byte, error) {
	if pkg == "" || strings.HasPrefix(pkg, "-") {
		return nil, &runtime.FieldError{Field: "package", Value: pkg, Reason: "must be a Go package path"}
	}
	tmp, err := os.MkdirTemp("", "image-gobuild-")
	if err != nil {
		return nil, fmt.Errorf("image: build %s: %w", pkg, err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bin")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = opts.Dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux"), opts.Env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("image: go build %s: %v\n%s", pkg, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("image: build %s: %w", pkg, err)
	}
	return b, nil
}

// FromGoPackage builds pkg with BuildGo and returns a builder of a
// single-layer image named name that holds the binary as /<last element of
// pkg>, runs it as its entrypoint, and has PATH=/ and an empty /tmp, like
// the images ko makes. Add files or change nothing and call WriteTo.
func FromGoPackage(ctx context.Context, name, pkg string, opts GoBuildOptions) (*Builder, error) {
	bin, err := BuildGo(ctx, pkg, opts)
	if err != nil {
		return nil, err
	}
	dst := "/" + path.Base(filepath.ToSlash(strings.TrimSuffix(pkg, "/")))
	if dst == "/." || dst == "/.." || dst == "/" {
		dst = "/app"
	}
	b := NewBuilder(Config{Name: name, Entrypoint: []string{dst}, Env: []string{"PATH=/"}})
	if err := b.AddBytes(dst, bin, 0o755); err != nil {
		return nil, err
	}
	if err := b.Mkdir("/tmp", fs.ModeSticky|0o777); err != nil {
		return nil, err
	}
	return b, nil
}
