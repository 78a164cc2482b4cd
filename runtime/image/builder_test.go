package image_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/image"
)

func TestBuildAndRead(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc", "app"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "app", "config"), []byte("x=1"), 0o644)
	bin := filepath.Join(t.TempDir(), "server")
	os.WriteFile(bin, []byte("\x7fELF..."), 0o755)

	b, err := image.FromBinary("example.com/server:v2", bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddDir("/", dir); err != nil {
		t.Fatal(err)
	}
	if err := b.AddBytes("/srv/data/hello.txt", []byte("hi"), 0o600); err != nil {
		t.Fatal(err)
	}
	archive, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := b.Bytes()
	if !bytes.Equal(archive, again) {
		t.Fatal("building the same image twice gave different archives")
	}
	infos, err := image.ReadArchive(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 {
		t.Fatalf("ReadArchive = %d images", len(infos))
	}
	info := infos[0]
	if info.Name != "example.com/server:v2" || info.Config.Entrypoint[0] != "/server" || info.Config.Env[0] != "PATH=/" {
		t.Fatalf("info = %+v", info)
	}
	want := map[string]fs.FileMode{
		"/": fs.ModeDir | 0o755, "/server": 0o755, "/etc": fs.ModeDir | 0o755, "/etc/app": fs.ModeDir | 0o755,
		"/etc/app/config": 0o644, "/srv": fs.ModeDir | 0o755, "/srv/data": fs.ModeDir | 0o755, "/srv/data/hello.txt": 0o600,
	}
	if d := cmp.Diff(want, info.Files); d != "" {
		t.Fatalf("files (-want +got):\n%s", d)
	}
}

func TestBuilderRejectsBadInput(t *testing.T) {
	b := image.NewBuilder(image.Config{Name: "x:v1"})
	for _, p := range []string{"relative", "/a/../b", "/", "/nul\x00"} {
		if err := b.AddBytes(p, nil, 0o644); !errors.Is(err, runtime.ErrInvalid) {
			t.Errorf("AddBytes(%q) = %v, want ErrInvalid", p, err)
		}
	}
	if err := b.AddBytes("/f", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.AddBytes("/f/under-a-file", nil, 0o644); !errors.Is(err, runtime.ErrInvalid) {
		t.Errorf("a file under a file: %v", err)
	}
	if err := b.AddFile("/g", "/no/such/file"); err == nil {
		t.Error("AddFile of a missing file succeeded")
	}
	if err := b.AddFile("/g", t.TempDir()); !errors.Is(err, runtime.ErrInvalid) {
		t.Errorf("AddFile of a directory: %v", err)
	}
	for _, cfg := range []image.Config{{}, {Name: "has space"}, {Name: "x", Env: []string{"NOEQ"}}, {Name: "x", WorkingDir: "rel"}} {
		var buf bytes.Buffer
		_, err := image.NewBuilder(cfg).WriteTo(&buf)
		if !errors.Is(err, runtime.ErrInvalid) || buf.Len() != 0 {
			t.Errorf("WriteTo with %+v = %v (wrote %d bytes), want ErrInvalid and nothing written", cfg, err, buf.Len())
		}
	}
}

func TestReadArchiveRejectsTampering(t *testing.T) {
	b := image.NewBuilder(image.Config{Name: "x:v1"})
	b.AddBytes("/payload", bytes.Repeat([]byte("A"), 100), 0o644)
	archive, _ := b.Bytes()
	i := bytes.Index(archive, bytes.Repeat([]byte("A"), 100))
	bad := append([]byte(nil), archive...)
	bad[i] = 'B'
	if _, err := image.ReadArchive(bytes.NewReader(bad)); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("tampered layer: %v, want ErrInvalid", err)
	}
	if _, err := image.ReadArchive(bytes.NewReader(archive[:len(archive)/2])); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("truncated archive: %v, want ErrInvalid", err)
	}
}

func FuzzReadArchive(f *testing.F) {
	b := image.NewBuilder(image.Config{Name: "x:v1", Entrypoint: []string{"/x"}})
	b.AddBytes("/x", []byte("bin"), 0o755)
	archive, _ := b.Bytes()
	f.Add(archive)
	f.Add([]byte{})
	f.Add([]byte("not a tar"))
	f.Add(archive[:1024])
	f.Fuzz(func(t *testing.T, data []byte) {
		infos, err := image.ReadArchive(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		for _, i := range infos {
			if i.Name == "" || i.Files["/"] == 0 {
				t.Fatalf("accepted image without name or root: %+v", i)
			}
		}
	})
}
