package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/setpoint-dev/setpoint/runtime"
)

// MaxArchiveSize bounds what ReadArchive reads into memory.
const MaxArchiveSize = 512 << 20

// Info describes one image of an archive.
type Info struct {
	// Name is the image reference from the index annotations.
	Name string
	// Digest is the manifest's digest; Size the manifest's, config's and
	// layers' sizes summed.
	Digest string
	Size   int64
	// ConfigDigest is the digest of the image's configuration (the image
	// ID).
	ConfigDigest string
	// Config is the image's run configuration.
	Config ocispec.ImageConfig
	// Files maps every absolute path in the image's file system to its mode
	// (fs.ModeDir for directories).
	Files map[string]fs.FileMode
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: image archive: %s", runtime.ErrInvalid, fmt.Sprintf(format, args...))
}

// ReadArchive reads an OCI image layout tarball and returns the named images
// in it, sorted by name, with their configuration and file lists. Every blob
// is checked against its digest. Errors wrap runtime.ErrInvalid.
func ReadArchive(r io.Reader) ([]Info, error) {
	blobs := map[string][]byte{}
	tr := tar.NewReader(io.LimitReader(r, MaxArchiveSize+1))
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalid("reading tar: %v", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		total += h.Size
		if total > MaxArchiveSize {
			return nil, invalid("larger than %d bytes", MaxArchiveSize)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, invalid("reading %s: %v", h.Name, err)
		}
		blobs[path.Clean(strings.TrimPrefix(h.Name, "./"))] = data
	}
	idxJSON, ok := blobs["index.json"]
	if !ok {
		return nil, invalid("no index.json")
	}
	var idx ocispec.Index
	if err := json.Unmarshal(idxJSON, &idx); err != nil {
		return nil, invalid("index.json: %v", err)
	}
	var out []Info
	for i, m := range idx.Manifests {
		name := m.Annotations[AnnotationImageName]
		if name == "" {
			name = m.Annotations[ocispec.AnnotationRefName]
		}
		if name == "" {
			continue
		}
		info, err := readManifest(blobs, m, 0)
		if err != nil {
			return nil, fmt.Errorf("manifest %d (%s): %w", i, name, err)
		}
		info.Name = name
		out = append(out, info)
	}
	if len(out) == 0 {
		return nil, invalid("no named image in index.json")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func blob(blobs map[string][]byte, d ocispec.Descriptor) ([]byte, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, invalid("descriptor digest %q: %v", d.Digest, err)
	}
	data, ok := blobs[blobPath(d.Digest)]
	if !ok {
		return nil, invalid("missing blob %s", d.Digest)
	}
	if int64(len(data)) != d.Size {
		return nil, invalid("blob %s has size %d, descriptor says %d", d.Digest, len(data), d.Size)
	}
	if d.Digest.Algorithm().FromBytes(data) != d.Digest {
		return nil, invalid("blob %s does not match its digest", d.Digest)
	}
	return data, nil
}

func readManifest(blobs map[string][]byte, d ocispec.Descriptor, depth int) (Info, error) {
	data, err := blob(blobs, d)
	if err != nil {
		return Info{}, err
	}
	switch d.MediaType {
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		if depth > 2 {
			return Info{}, invalid("indexes nested too deep")
		}
		var idx ocispec.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			return Info{}, invalid("index %s: %v", d.Digest, err)
		}
		for _, m := range idx.Manifests {
			if m.Platform == nil || m.Platform.OS == "linux" {
				return readManifest(blobs, m, depth+1)
			}
		}
		return Info{}, invalid("index %s has no linux manifest", d.Digest)
	case ocispec.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json":
	default:
		return Info{}, invalid("unsupported manifest media type %q", d.MediaType)
	}
	var man ocispec.Manifest
	if err := json.Unmarshal(data, &man); err != nil {
		return Info{}, invalid("manifest %s: %v", d.Digest, err)
	}
	cfgJSON, err := blob(blobs, man.Config)
	if err != nil {
		return Info{}, err
	}
	var img ocispec.Image
	if err := json.Unmarshal(cfgJSON, &img); err != nil {
		return Info{}, invalid("config %s: %v", man.Config.Digest, err)
	}
	info := Info{Digest: d.Digest.String(), ConfigDigest: man.Config.Digest.String(), Size: d.Size + man.Config.Size, Config: img.Config, Files: map[string]fs.FileMode{"/": fs.ModeDir | 0o755}}
	for _, l := range man.Layers {
		data, err := blob(blobs, l)
		if err != nil {
			return Info{}, err
		}
		info.Size += l.Size
		if err := applyLayer(info.Files, l.MediaType, data); err != nil {
			return Info{}, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
	}
	return info, nil
}

func applyLayer(files map[string]fs.FileMode, mediaType string, data []byte) error {
	var r io.Reader = bytes.NewReader(data)
	switch mediaType {
	case ocispec.MediaTypeImageLayer, "application/vnd.docker.image.rootfs.diff.tar":
	case ocispec.MediaTypeImageLayerGzip, "application/vnd.docker.image.rootfs.diff.tar.gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return invalid("gzip: %v", err)
		}
		r = io.LimitReader(zr, MaxArchiveSize)
	default:
		return invalid("unsupported layer media type %q", mediaType)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return invalid("layer tar: %v", err)
		}
		p := path.Join("/", h.Name)
		dir, base := path.Split(p)
		switch {
		case base == ".wh..wh..opq":
			for f := range files {
				if strings.HasPrefix(f, dir) && f != dir && f != path.Clean(dir) {
					delete(files, f)
				}
			}
			continue
		case strings.HasPrefix(base, ".wh."):
			gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			for f := range files {
				if f == gone || strings.HasPrefix(f, gone+"/") {
					delete(files, f)
				}
			}
			continue
		}
		mode := fs.FileMode(h.Mode).Perm()
		if h.Mode&0o1000 != 0 {
			mode |= fs.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			mode |= fs.ModeDir
		case tar.TypeSymlink:
			mode |= fs.ModeSymlink
		}
		files[p] = mode
	}
}
