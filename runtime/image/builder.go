package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/setpoint-dev/setpoint/runtime"
)

// AnnotationImageName is the index annotation containerd reads the image
// name from on import.
const AnnotationImageName = "io.containerd.image.name"

// Config is the image's name and run configuration.
type Config struct {
	// Name is the image reference, for example "example.com/app:v1".
	// Required.
	Name string
	// Entrypoint, Cmd, Env and WorkingDir become the image's defaults.
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	// User is the user the image runs as ("", "1000", "1000:1000",
	// "name", ...); empty means root.
	User string
	// Labels are the image config's labels.
	Labels map[string]string
	// OS and Architecture default to linux and the running architecture.
	OS           string
	Architecture string
}

type entry struct {
	mode fs.FileMode // fs.ModeDir for directories
	data []byte
	src  string // host file to read when data is nil and not a dir
}

// Builder assembles a single-layer OCI image. The zero value is not usable;
// call NewBuilder. A Builder is not safe for concurrent use.
type Builder struct {
	cfg   Config
	files map[string]entry
}

// NewBuilder returns a builder for an empty image with cfg.
func NewBuilder(cfg Config) *Builder {
	return &Builder{cfg: cfg, files: map[string]entry{}}
}

// FromBinary returns a builder for an image holding only the static binary at
// binPath, installed as /<base name> and used as the entrypoint.
func FromBinary(name, binPath string) (*Builder, error) {
	dst := "/" + filepath.Base(binPath)
	b := NewBuilder(Config{Name: name, Entrypoint: []string{dst}, Env: []string{"PATH=/"}})
	if err := b.AddFile(dst, binPath); err != nil {
		return nil, err
	}
	return b, nil
}

// cleanDst checks that p is an absolute path inside the image and returns
// it cleaned, without the leading slash.
func cleanDst(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", &runtime.FieldError{Field: "path", Value: p, Reason: "must be absolute"}
	}
	if strings.ContainsRune(p, 0) {
		return "", &runtime.FieldError{Field: "path", Value: p, Reason: "must not contain NUL"}
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", &runtime.FieldError{Field: "path", Value: p, Reason: "must not contain .."}
		}
	}
	c := strings.TrimPrefix(path.Clean(p), "/")
	if c == "" {
		return "", &runtime.FieldError{Field: "path", Value: p, Reason: "must name a file, not the root"}
	}
	return c, nil
}

func (b *Builder) add(dst string, e entry) error {
	c, err := cleanDst(dst)
	if err != nil {
		return err
	}
	if old, ok := b.files[c]; ok && (old.mode.IsDir() != e.mode.IsDir()) {
		return &runtime.FieldError{Field: "path", Value: dst, Reason: "is already added as a different kind of entry"}
	}
	for d := path.Dir(c); d != "."; d = path.Dir(d) {
		if old, ok := b.files[d]; ok && !old.mode.IsDir() {
			return &runtime.FieldError{Field: "path", Value: dst, Reason: "has a parent " + d + " that is a file"}
		}
	}
	b.files[c] = e
	return nil
}

// AddBytes adds a regular file at dst (absolute) with data and permissions mode.
func (b *Builder) AddBytes(dst string, data []byte, mode fs.FileMode) error {
	if data == nil {
		data = []byte{}
	}
	return b.add(dst, entry{mode: mode.Perm(), data: data})
}

// Mkdir adds an empty directory at dst (absolute) with permissions mode
// (and the sticky bit when mode has it, as /tmp wants).
func (b *Builder) Mkdir(dst string, mode fs.FileMode) error {
	return b.add(dst, entry{mode: fs.ModeDir | mode.Perm() | mode&fs.ModeSticky})
}

// AddFile adds the host file src at dst (absolute), keeping its permissions.
// The file is read when the image is written.
func (b *Builder) AddFile(dst, src string) error {
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("image: add %s: %w", dst, err)
	}
	if !st.Mode().IsRegular() {
		return &runtime.FieldError{Field: "src", Value: src, Reason: "is not a regular file"}
	}
	return b.add(dst, entry{mode: st.Mode().Perm(), src: src})
}

// AddDir adds the regular files and directories under the host directory
// src at dst (absolute). Symbolic links and special files are rejected.
func (b *Builder) AddDir(dst, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("image: add dir %s: %w", src, err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := path.Join(dst, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("image: add dir %s: %w", src, err)
		}
		switch {
		case d.IsDir():
			if target == "/" {
				return nil
			}
			return b.add(target, entry{mode: fs.ModeDir | info.Mode().Perm()})
		case info.Mode().IsRegular():
			return b.add(target, entry{mode: info.Mode().Perm(), src: p})
		default:
			return &runtime.FieldError{Field: "src", Value: p, Reason: "is neither a regular file nor a directory"}
		}
	})
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Name == "" {
		return &runtime.FieldError{Field: "name", Reason: "is required"}
	}
	if strings.ContainsFunc(c.Name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return &runtime.FieldError{Field: "name", Value: c.Name, Reason: "must not contain spaces or control characters"}
	}
	for i, e := range c.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return &runtime.FieldError{Field: fmt.Sprintf("env[%d]", i), Value: e, Reason: "must be KEY=VALUE"}
		}
	}
	if c.WorkingDir != "" && !strings.HasPrefix(c.WorkingDir, "/") {
		return &runtime.FieldError{Field: "workingDir", Value: c.WorkingDir, Reason: "must be absolute"}
	}
	return nil
}

var epoch = time.Unix(0, 0).UTC()

// layer writes the layer tar: every parent directory, then the entries, in
// path order, with fixed owners and times so that the same input gives the
// same digest.
func (b *Builder) layer() ([]byte, error) {
	all := map[string]entry{}
	for p, e := range b.files {
		all[p] = e
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				all[d] = entry{mode: fs.ModeDir | 0o755}
			}
		}
	}
	names := make([]string, 0, len(all))
	for p := range all {
		names = append(names, p)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range names {
		e := all[p]
		h := &tar.Header{Name: p, Mode: int64(e.mode.Perm()), ModTime: epoch, Format: tar.FormatPAX}
		if e.mode&fs.ModeSticky != 0 {
			h.Mode |= 0o1000
		}
		if e.mode.IsDir() {
			h.Typeflag, h.Name = tar.TypeDir, p+"/"
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			continue
		}
		data := e.data
		if data == nil {
			var err error
			if data, err = os.ReadFile(e.src); err != nil {
				return nil, fmt.Errorf("image: read %s: %w", e.src, err)
			}
		}
		h.Typeflag, h.Size = tar.TypeReg, int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteTo writes the image as an OCI image layout tarball, which
// Runtime.ImportImage (and `ctr images import`) accept. The layer is an
// uncompressed tar, so unpacking it is cheap.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	if err := b.cfg.Validate(); err != nil {
		return 0, err
	}
	layer, err := b.layer()
	if err != nil {
		return 0, err
	}
	layerDigest := digest.FromBytes(layer)
	osName, arch := b.cfg.OS, b.cfg.Architecture
	if osName == "" {
		osName = "linux"
	}
	if arch == "" {
		arch = goruntime.GOARCH
	}
	cfg := ocispec.Image{
		Created:  &epoch,
		Platform: ocispec.Platform{OS: osName, Architecture: arch},
		Config: ocispec.ImageConfig{
			Entrypoint: b.cfg.Entrypoint, Cmd: b.cfg.Cmd, Env: b.cfg.Env,
			WorkingDir: b.cfg.WorkingDir, Labels: b.cfg.Labels, User: b.cfg.User,
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDigest}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return 0, err
	}
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfgJSON), Size: int64(len(cfgJSON))},
		Layers:    []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: layerDigest, Size: int64(len(layer))}},
	}
	manJSON, err := json.Marshal(manifest)
	if err != nil {
		return 0, err
	}
	tag := b.cfg.Name
	if i := strings.LastIndexAny(tag, ":/"); i >= 0 && tag[i] == ':' {
		tag = tag[i+1:]
	}
	index := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{
			MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(manJSON), Size: int64(len(manJSON)),
			Platform:    &ocispec.Platform{OS: osName, Architecture: arch},
			Annotations: map[string]string{AnnotationImageName: b.cfg.Name, ocispec.AnnotationRefName: tag},
		}},
	}
	idxJSON, err := json.Marshal(index)
	if err != nil {
		return 0, err
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	cw := &countWriter{w: w}
	tw := tar.NewWriter(cw)
	files := []struct {
		name string
		data []byte
	}{
		{ocispec.ImageLayoutFile, layout},
		{"index.json", idxJSON},
		{blobPath(layerDigest), layer},
		{blobPath(manifest.Config.Digest), cfgJSON},
		{blobPath(index.Manifests[0].Digest), manJSON},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
			return cw.n, err
		}
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return cw.n, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return cw.n, err
		}
	}
	err = tw.Close()
	return cw.n, err
}

// Bytes returns the image as an OCI image layout tarball.
func (b *Builder) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	_, err := b.WriteTo(&buf)
	return buf.Bytes(), err
}

func blobPath(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

type countWriter struct {
	w io.Writer
	n int64
}

// Write writes p and counts it.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
