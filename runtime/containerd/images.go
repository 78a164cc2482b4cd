package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/setpoint-dev/setpoint/runtime"
)

// candidates returns the names an image reference may be stored under: as
// given, and normalised ("busybox" -> "docker.io/library/busybox:latest").
func candidates(ref string) ([]string, error) {
	if ref == "" || strings.ContainsFunc(ref, func(r rune) bool { return r <= ' ' }) {
		return nil, &runtime.FieldError{Field: "image", Value: ref, Reason: "is not an image reference"}
	}
	names := []string{ref}
	if named, err := reference.ParseDockerRef(ref); err == nil && named.String() != ref {
		names = append(names, named.String())
	}
	return names, nil
}

// image returns the local image named ref, unpacked.
func (r *Runtime) image(ctx context.Context, ref string) (client.Image, error) {
	names, err := candidates(ref)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		img, err := r.client.GetImage(ctx, name)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, convert(err, "image "+ref)
		}
		if err := r.unpack(ctx, img); err != nil {
			return nil, err
		}
		return img, nil
	}
	return nil, fmt.Errorf("%w: %s is not present locally", runtime.ErrImageNotFound, ref)
}

// unpack makes sure img is unpacked in the snapshotter. Images seen unpacked
// are remembered by target digest; should the snapshots go away anyway,
// creating a container fails with a clear error and RemoveImage or a new
// import resets the memory.
func (r *Runtime) unpack(ctx context.Context, img client.Image) error {
	key := img.Name() + "@" + img.Target().Digest.String()
	if _, ok := r.unpacked.Load(key); ok {
		return nil
	}
	ok, err := img.IsUnpacked(ctx, r.cfg.Snapshotter)
	if err != nil {
		return convert(err, "image "+img.Name())
	}
	if !ok {
		if err := img.Unpack(ctx, r.cfg.Snapshotter); err != nil {
			return convert(err, "unpack image "+img.Name())
		}
	}
	r.unpacked.Store(key, true)
	return nil
}

// imageConfig is an image's configuration and its digest (the image ID).
type imageConfig struct {
	spec ocispec.Image
	id   string
}

// config returns img's configuration, read once per manifest digest (it is
// content-addressed, so it never changes).
func (r *Runtime) config(ctx context.Context, img client.Image) (imageConfig, error) {
	key := img.Target().Digest.String()
	if c, ok := r.configs.Load(key); ok {
		return c.(imageConfig), nil
	}
	desc, err := img.Config(ctx)
	if err != nil {
		return imageConfig{}, convert(err, "image "+img.Name())
	}
	spec, err := img.Spec(ctx)
	if err != nil {
		return imageConfig{}, convert(err, "image "+img.Name())
	}
	c := imageConfig{spec: spec, id: desc.Digest.String()}
	r.configs.Store(key, c)
	return c, nil
}

// forget drops what unpack remembers about the image named name.
func (r *Runtime) forget(name string) {
	r.unpacked.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), name+"@") {
			r.unpacked.Delete(k)
		}
		return true
	})
}

// toImage describes img: its digests, size and run configuration.
func toImage(ctx context.Context, img client.Image) (runtime.Image, error) {
	size, err := img.Size(ctx)
	if err != nil {
		return runtime.Image{}, convert(err, "image "+img.Name())
	}
	cfg, err := img.Config(ctx)
	if err != nil {
		return runtime.Image{}, convert(err, "image "+img.Name())
	}
	spec, err := img.Spec(ctx)
	if err != nil {
		return runtime.Image{}, convert(err, "image "+img.Name())
	}
	c := spec.Config
	return runtime.Image{
		Name: img.Name(), Digest: img.Target().Digest.String(), ID: cfg.Digest.String(), Size: size,
		User: c.User, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir,
	}, nil
}

// ImageStatus returns the local image, never pulling it.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (_ runtime.Image, err error) {
	defer r.observe("image_status", time.Now(), &err)
	ctx = r.ctx(ctx)
	img, err := r.image(ctx, ref)
	if err != nil {
		if errors.Is(err, runtime.ErrImageNotFound) {
			return runtime.Image{}, fmt.Errorf("%w: image %s is not present on this node", runtime.ErrImageNotFound, ref)
		}
		return runtime.Image{}, err
	}
	return toImage(ctx, img)
}

// EnsureImage returns the local image, or pulls it from its registry within
// Config.PullTimeout. When no registry answers, it fails fast with an error
// wrapping both ErrImageNotFound and ErrUnavailable.
func (r *Runtime) EnsureImage(ctx context.Context, ref string) (_ runtime.Image, err error) {
	defer r.observe("ensure_image", time.Now(), &err)
	ctx = r.ctx(ctx)
	img, err := r.image(ctx, ref)
	if err == nil {
		return toImage(ctx, img)
	}
	if !errors.Is(err, runtime.ErrImageNotFound) {
		return runtime.Image{}, err
	}
	named, perr := reference.ParseDockerRef(ref)
	if perr != nil {
		return runtime.Image{}, &runtime.FieldError{Field: "image", Value: ref, Reason: perr.Error()}
	}
	pctx, cancel := context.WithTimeout(ctx, r.cfg.PullTimeout)
	defer cancel()
	httpClient := &http.Client{
		Timeout: r.cfg.PullTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
		},
	}
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: docker.ConfigureDefaultRegistries(docker.WithClient(httpClient))})
	r.cfg.Logger.Info("pulling image", "image", named.String())
	img, err = r.client.Pull(pctx, named.String(), client.WithPullUnpack, client.WithPullSnapshotter(r.cfg.Snapshotter), client.WithResolver(resolver))
	if err != nil {
		var nerr net.Error
		if errors.As(err, &nerr) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connect:") {
			return runtime.Image{}, fmt.Errorf("%w: %s is not local and its registry cannot be reached (%w): %v", runtime.ErrImageNotFound, ref, runtime.ErrUnavailable, err)
		}
		return runtime.Image{}, fmt.Errorf("%w: %s is not local and pulling it failed: %v", runtime.ErrImageNotFound, ref, err)
	}
	return toImage(ctx, img)
}

// ImportImage imports an OCI image layout (or docker save) tarball and
// unpacks every image in it.
func (r *Runtime) ImportImage(ctx context.Context, rd io.Reader) (_ []runtime.Image, err error) {
	defer r.observe("import_image", time.Now(), &err)
	ctx = r.ctx(ctx)
	imgs, err := r.client.Import(ctx, rd)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errdefs.IsUnavailable(err) {
			return nil, convert(err, "import image")
		}
		return nil, fmt.Errorf("%w: import image: %v", runtime.ErrInvalid, err)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("%w: import image: the archive names no image", runtime.ErrInvalid)
	}
	var out []runtime.Image
	for _, i := range imgs {
		img := client.NewImage(r.client, i)
		r.forget(img.Name())
		if err := r.unpack(ctx, img); err != nil {
			return nil, err
		}
		ri, err := toImage(ctx, img)
		if err != nil {
			return nil, err
		}
		out = append(out, ri)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListImages returns the local images in the runtime's namespace.
func (r *Runtime) ListImages(ctx context.Context) (_ []runtime.Image, err error) {
	defer r.observe("list_images", time.Now(), &err)
	ctx = r.ctx(ctx)
	imgs, err := r.client.ListImages(ctx)
	if err != nil {
		return nil, convert(err, "list images")
	}
	out := make([]runtime.Image, 0, len(imgs))
	for _, img := range imgs {
		ri, err := toImage(ctx, img)
		if errors.Is(err, runtime.ErrNotFound) {
			continue // deleted meanwhile, or its content is gone
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ri)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveImage deletes the image; its content is garbage collected once no
// container uses it.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) (err error) {
	defer r.observe("remove_image", time.Now(), &err)
	ctx = r.ctx(ctx)
	names, err := candidates(ref)
	if err != nil {
		return err
	}
	for _, name := range names {
		r.forget(name)
		err := r.client.ImageService().Delete(ctx, name, images.SynchronousDelete())
		if errdefs.IsNotFound(err) {
			continue
		}
		return convert(err, "remove image "+ref)
	}
	return fmt.Errorf("%w: %s", runtime.ErrImageNotFound, ref)
}
