package image_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/image"
)

// TestFromGoPackage builds a main package of a temporary module into an
// image: one static binary as the entrypoint, PATH=/ and an empty /tmp.
func TestFromGoPackage(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"go.mod":         "module example.com/hello\n\ngo 1.21\n",
		"cmd/hi/main.go": "package main\n\nfunc main() { println(\"hi\") }\n",
		"broken/main.go": "package main\n\nfunc main() { undefined() }\n",
		"notmain/lib.go": "package notmain\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	b, err := image.FromGoPackage(ctx, "example.com/hi:v1", "./cmd/hi", image.GoBuildOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	archive, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	infos, err := image.ReadArchive(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	info := infos[0]
	if info.Name != "example.com/hi:v1" || strings.Join(info.Config.Entrypoint, " ") != "/hi" || strings.Join(info.Config.Env, " ") != "PATH=/" {
		t.Fatalf("image config %+v", info.Config)
	}
	if m := info.Files["/hi"]; !m.IsRegular() || m&0o111 == 0 {
		t.Fatalf("/hi has mode %v, want an executable file", m)
	}
	if m := info.Files["/tmp"]; !m.IsDir() || m&fs.ModeSticky == 0 {
		t.Fatalf("/tmp has mode %v, want a sticky directory", m)
	}
	bin, err := image.BuildGo(ctx, "./cmd/hi", image.GoBuildOptions{Dir: dir})
	if err != nil || !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		t.Fatalf("BuildGo: %d bytes, %v; want an ELF binary", len(bin), err)
	}
	// Failures name the package and carry the compiler's words.
	if _, err := image.BuildGo(ctx, "./broken", image.GoBuildOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "undefined") {
		t.Fatalf("broken package: %v", err)
	}
	if _, err := image.BuildGo(ctx, "-o", image.GoBuildOptions{Dir: dir}); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("a flag as the package: %v, want ErrInvalid", err)
	}
}
