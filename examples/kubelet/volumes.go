package kubelet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// podVolume is where one of a pod's volumes is on the node, ready to
// mount.
type podVolume struct {
	// hostPath is the node directory or file to bind ("" for tmpfs).
	hostPath string
	// tmpfs: an emptyDir with medium Memory, the runtime's tmpfs volume.
	tmpfs     bool
	sizeLimit int64
	// readOnly: every mount of the volume is read-only (configMap,
	// secret, downwardAPI and projected volumes, and read-only claims).
	readOnly bool
}

// volumeState is what the kubelet keeps about its pods' volumes: the set
// up volumes by pod UID, the service account tokens it requested, and the
// last mount failure reported per pod (so it is reported once).
type volumeState struct {
	mu      sync.Mutex
	vols    map[string]map[string]podVolume
	tokens  map[string]cachedToken // by pod UID + "/" + volume + "/" + path
	failure map[string]string      // by pod UID
}

// cachedToken is a service account token and when to request the next.
type cachedToken struct {
	token   string
	refresh time.Time
}

// podDir is the node directory of the pod's volumes and files.
func (k *Kubelet) podDir(uid string) string { return filepath.Join(k.cfg.RootDir, "pods", uid) }

// volumesOf returns the pod's set-up volumes (nil before setupVolumes).
func (k *Kubelet) volumesOf(uid string) map[string]podVolume {
	k.vols.mu.Lock()
	defer k.vols.mu.Unlock()
	return k.vols.vols[uid]
}

// setupVolumes makes every volume of the pod ready on the node, and
// rewrites the content of configMap, secret, downwardAPI and projected
// volumes whose sources changed (atomically, see writeAtomic). The error
// names the volume, as Kubernetes' MountVolume.SetUp failures do; it is
// reported once as a FailedMount event.
func (k *Kubelet) setupVolumes(ctx context.Context, pod *api.Pod, sb *runtime.SandboxStatus) error {
	k.vols.mu.Lock()
	if k.vols.vols == nil {
		k.vols.vols, k.vols.tokens, k.vols.failure = map[string]map[string]podVolume{}, map[string]cachedToken{}, map[string]string{}
	}
	k.vols.mu.Unlock()
	vols := make(map[string]podVolume, len(pod.Spec.Volumes))
	var err error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		var pv podVolume
		if pv, err = k.setupVolume(ctx, pod, sb, v); err != nil {
			err = fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", v.Name, err)
			break
		}
		vols[v.Name] = pv
	}
	uid := string(pod.UID)
	k.vols.mu.Lock()
	last := k.vols.failure[uid]
	if err != nil {
		k.vols.failure[uid] = err.Error()
	} else {
		delete(k.vols.failure, uid)
		k.vols.vols[uid] = vols
	}
	k.vols.mu.Unlock()
	if err != nil && last != err.Error() {
		k.ev.pod(ctx, pod, eventWarning, "FailedMount", err.Error())
	}
	return err
}

// forgetVolumes drops what the kubelet keeps about a pod's volumes and
// removes the pod's directory (emptyDirs, written volumes, hosts file).
func (k *Kubelet) forgetVolumes(uid string) error {
	k.vols.mu.Lock()
	delete(k.vols.vols, uid)
	delete(k.vols.failure, uid)
	for key := range k.vols.tokens {
		if strings.HasPrefix(key, uid+"/") {
			delete(k.vols.tokens, key)
		}
	}
	k.vols.mu.Unlock()
	if uid == "" || strings.ContainsAny(uid, "/.") {
		return nil
	}
	if err := os.RemoveAll(k.podDir(uid)); err != nil {
		return fmt.Errorf("removing the directory of pod %s: %w", uid, err)
	}
	return nil
}

// fsGroupOf is the pod's fsGroup, or -1.
func fsGroupOf(pod *api.Pod) int {
	if sc := pod.Spec.SecurityContext; sc != nil && sc.FSGroup != nil {
		return int(*sc.FSGroup)
	}
	return -1
}

// setupVolume makes one volume ready.
func (k *Kubelet) setupVolume(ctx context.Context, pod *api.Pod, sb *runtime.SandboxStatus, v *api.Volume) (podVolume, error) {
	dir := filepath.Join(k.podDir(string(pod.UID)), "volumes", v.Name)
	gid := fsGroupOf(pod)
	written := func(files map[string]payloadFile, err error) (podVolume, error) {
		if err != nil {
			return podVolume{}, err
		}
		if _, err := writeAtomic(dir, files, gid); err != nil {
			return podVolume{}, err
		}
		return podVolume{hostPath: dir, readOnly: true}, nil
	}
	s := &v.VolumeSource
	switch {
	case s.EmptyDir != nil:
		var limit int64
		if s.EmptyDir.SizeLimit != nil {
			limit = s.EmptyDir.SizeLimit.Value()
		}
		switch s.EmptyDir.Medium {
		case api.StorageMediumMemory:
			return podVolume{tmpfs: true, sizeLimit: limit}, nil
		case api.StorageMediumDefault:
		default:
			return podVolume{}, fmt.Errorf("emptyDir medium %q is not supported (use \"\" or Memory)", s.EmptyDir.Medium)
		}
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return podVolume{}, err
		}
		// World-writable like Kubernetes' emptyDir, whatever the umask;
		// with fsGroup, owned by that group and set-group-ID.
		mode := fs.FileMode(0o777)
		if gid >= 0 {
			if err := os.Chown(dir, -1, gid); err != nil {
				return podVolume{}, err
			}
			mode |= fs.ModeSetgid
		}
		return podVolume{hostPath: dir}, os.Chmod(dir, mode)
	case s.HostPath != nil:
		return hostPathVolume(s.HostPath)
	case s.ConfigMap != nil:
		return written(k.configMapFiles(ctx, pod, s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional, modeOr(s.ConfigMap.DefaultMode)))
	case s.Secret != nil:
		return written(k.secretFiles(ctx, pod, s.Secret.SecretName, s.Secret.Items, s.Secret.Optional, modeOr(s.Secret.DefaultMode)))
	case s.DownwardAPI != nil:
		return written(k.downwardFiles(pod, sb, s.DownwardAPI.Items, modeOr(s.DownwardAPI.DefaultMode)))
	case s.Projected != nil:
		return written(k.projectedFiles(ctx, pod, sb, v.Name, s.Projected))
	case s.PersistentVolumeClaim != nil:
		return k.claimVolume(ctx, pod, s.PersistentVolumeClaim)
	}
	return podVolume{}, errors.New("volume type not supported by this kubelet (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected, persistentVolumeClaim)")
}

// modeOr is a volume's defaultMode, 0644 when unset (Kubernetes' default).
func modeOr(m *int32) fs.FileMode {
	if m == nil {
		return 0o644
	}
	return fs.FileMode(*m) & fs.ModePerm
}

// itemMode is a KeyToPath's mode, else def.
func itemMode(m *int32, def fs.FileMode) fs.FileMode {
	if m == nil {
		return def
	}
	return fs.FileMode(*m) & fs.ModePerm
}

// keyFiles maps an object's keys to files: every key, or only items (each
// of which must exist unless optional).
func keyFiles(kind, name string, data map[string][]byte, items []api.KeyToPath, optional bool, mode fs.FileMode) (map[string]payloadFile, error) {
	files := map[string]payloadFile{}
	if len(items) == 0 {
		for key, b := range data {
			files[key] = payloadFile{data: b, mode: mode}
		}
		return files, nil
	}
	for _, it := range items {
		b, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("configured to use key %s of %s %s, which does not exist", it.Key, kind, name)
		}
		if err := checkPayloadPath(it.Path); err != nil {
			return nil, fmt.Errorf("item %s: %w", it.Key, err)
		}
		files[it.Path] = payloadFile{data: b, mode: itemMode(it.Mode, mode)}
	}
	return files, nil
}

// configMapFiles reads a ConfigMap's data and binaryData as files; a
// missing optional ConfigMap gives none.
func (k *Kubelet) configMapFiles(ctx context.Context, pod *api.Pod, name string, items []api.KeyToPath, opt *bool, mode fs.FileMode) (map[string]payloadFile, error) {
	optional := opt != nil && *opt
	cm, err := k.configMap(ctx, pod, name)
	if err != nil {
		if isNotFound(err) && optional {
			return map[string]payloadFile{}, nil
		}
		if isNotFound(err) {
			return nil, fmt.Errorf("configmap %q not found", name)
		}
		return nil, fmt.Errorf("configmap %q: %w", name, err)
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for key, v := range cm.Data {
		data[key] = []byte(v)
	}
	for key, v := range cm.BinaryData {
		data[key] = v
	}
	return keyFiles("configmap", name, data, items, optional, mode)
}

// secretFiles reads a Secret's data as files; a missing optional Secret
// gives none.
func (k *Kubelet) secretFiles(ctx context.Context, pod *api.Pod, name string, items []api.KeyToPath, opt *bool, mode fs.FileMode) (map[string]payloadFile, error) {
	optional := opt != nil && *opt
	s, err := k.secret(ctx, pod, name)
	if err != nil {
		if isNotFound(err) && optional {
			return map[string]payloadFile{}, nil
		}
		if isNotFound(err) {
			return nil, fmt.Errorf("secret %q not found", name)
		}
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return keyFiles("secret", name, s.Data, items, optional, mode)
}

// downwardFiles renders downward API items: pod fields (labels and
// annotations as key="value" lines, sorted) and container resources.
func (k *Kubelet) downwardFiles(pod *api.Pod, sb *runtime.SandboxStatus, items []api.DownwardAPIVolumeFile, mode fs.FileMode) (map[string]payloadFile, error) {
	files := map[string]payloadFile{}
	for _, it := range items {
		if err := checkPayloadPath(it.Path); err != nil {
			return nil, err
		}
		var v string
		var err error
		switch {
		case it.FieldRef != nil && it.FieldRef.FieldPath == "metadata.labels":
			v = formatMap(pod.Labels)
		case it.FieldRef != nil && it.FieldRef.FieldPath == "metadata.annotations":
			v = formatMap(pod.Annotations)
		case it.FieldRef != nil:
			v, err = k.podField(pod, sb, it.FieldRef.FieldPath)
		case it.ResourceFieldRef != nil:
			if it.ResourceFieldRef.ContainerName == "" {
				return nil, fmt.Errorf("downwardAPI item %s: resourceFieldRef needs containerName in a volume", it.Path)
			}
			v, _, err = resourceField(pod, nil, it.ResourceFieldRef)
		default:
			err = errors.New("names neither fieldRef nor resourceFieldRef")
		}
		if err != nil {
			return nil, fmt.Errorf("downwardAPI item %s: %w", it.Path, err)
		}
		files[it.Path] = payloadFile{data: []byte(v), mode: itemMode(it.Mode, mode)}
	}
	return files, nil
}

// formatMap renders labels or annotations as the downward API volume
// does: key="value" lines sorted by key, values quoted as Go strings.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, key := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", key, m[key])
	}
	return b.String()
}

// projectedFiles merges the sources of a projected volume; a path given
// twice is an error.
func (k *Kubelet) projectedFiles(ctx context.Context, pod *api.Pod, sb *runtime.SandboxStatus, vol string, p *api.ProjectedVolumeSource) (map[string]payloadFile, error) {
	mode := modeOr(p.DefaultMode)
	all := map[string]payloadFile{}
	for i, src := range p.Sources {
		var files map[string]payloadFile
		var err error
		switch {
		case src.ConfigMap != nil:
			files, err = k.configMapFiles(ctx, pod, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, mode)
		case src.Secret != nil:
			files, err = k.secretFiles(ctx, pod, src.Secret.Name, src.Secret.Items, src.Secret.Optional, mode)
		case src.DownwardAPI != nil:
			files, err = k.downwardFiles(pod, sb, src.DownwardAPI.Items, mode)
		case src.ServiceAccountToken != nil:
			var tok string
			if tok, err = k.serviceAccountToken(ctx, pod, vol, src.ServiceAccountToken); err == nil {
				if err = checkPayloadPath(src.ServiceAccountToken.Path); err == nil {
					// Kubernetes writes the token 0600 unless defaultMode says otherwise.
					m := fs.FileMode(0o600)
					if p.DefaultMode != nil {
						m = mode
					}
					files = map[string]payloadFile{src.ServiceAccountToken.Path: {data: []byte(tok), mode: m}}
				}
			}
		default:
			err = errors.New("names no supported source (configMap, secret, downwardAPI, serviceAccountToken)")
		}
		if err != nil {
			return nil, fmt.Errorf("projected source %d: %w", i, err)
		}
		for p, f := range files {
			if _, dup := all[p]; dup {
				return nil, fmt.Errorf("projected source %d: path %s is given twice", i, p)
			}
			all[p] = f
		}
	}
	return all, nil
}

// hostPathVolume checks a hostPath volume's type against the node path,
// creating it for the ...OrCreate types (a directory 0755, an empty file
// 0644).
func hostPathVolume(h *api.HostPathVolumeSource) (podVolume, error) {
	p := h.Path
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return podVolume{}, fmt.Errorf("hostPath %q must be an absolute, clean path", p)
	}
	typ := api.HostPathUnset
	if h.Type != nil {
		typ = *h.Type
	}
	info, statErr := os.Stat(p)
	want := func(ok bool, what string) (podVolume, error) {
		if statErr != nil {
			return podVolume{}, fmt.Errorf("hostPath type check failed: %s is not a %s: %v", p, what, statErr)
		}
		if !ok {
			return podVolume{}, fmt.Errorf("hostPath type check failed: %s is not a %s", p, what)
		}
		return podVolume{hostPath: p}, nil
	}
	switch typ {
	case api.HostPathUnset:
		if statErr != nil {
			return podVolume{}, fmt.Errorf("hostPath %s: %v", p, statErr)
		}
		return podVolume{hostPath: p}, nil
	case api.HostPathDirectoryOrCreate:
		if errors.Is(statErr, fs.ErrNotExist) {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return podVolume{}, fmt.Errorf("hostPath %s: %v", p, err)
			}
			info, statErr = os.Stat(p)
		}
		return want(statErr == nil && info.IsDir(), "directory")
	case api.HostPathDirectory:
		return want(statErr == nil && info.IsDir(), "directory")
	case api.HostPathFileOrCreate:
		if errors.Is(statErr, fs.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return podVolume{}, fmt.Errorf("hostPath %s: %v", p, err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return podVolume{}, fmt.Errorf("hostPath %s: %v", p, err)
			}
			f.Close()
			info, statErr = os.Stat(p)
		}
		return want(statErr == nil && info.Mode().IsRegular(), "file")
	case api.HostPathFile:
		return want(statErr == nil && info.Mode().IsRegular(), "file")
	case api.HostPathSocket:
		return want(statErr == nil && info.Mode()&fs.ModeSocket != 0, "socket")
	case api.HostPathCharDev:
		return want(statErr == nil && info.Mode()&fs.ModeCharDevice != 0, "character device")
	case api.HostPathBlockDev:
		return want(statErr == nil && info.Mode()&fs.ModeDevice != 0 && info.Mode()&fs.ModeCharDevice == 0, "block device")
	}
	return podVolume{}, fmt.Errorf("hostPath type %q is not one of DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice", typ)
}

// claimVolume resolves a persistentVolumeClaim to the node path of its
// bound local or hostPath PersistentVolume.
func (k *Kubelet) claimVolume(ctx context.Context, pod *api.Pod, src *api.PersistentVolumeClaimVolumeSource) (podVolume, error) {
	pvc, err := k.cfg.Client.PersistentVolumeClaims().Get(ctx, pod.Namespace, src.ClaimName)
	if err != nil {
		if isNotFound(err) {
			return podVolume{}, fmt.Errorf("persistentvolumeclaim %q not found", src.ClaimName)
		}
		return podVolume{}, fmt.Errorf("persistentvolumeclaim %q: %w", src.ClaimName, err)
	}
	if pvc.Spec.VolumeName == "" || pvc.Status.Phase != api.ClaimBound {
		return podVolume{}, fmt.Errorf("persistentvolumeclaim %q is not bound", src.ClaimName)
	}
	pv, err := k.cfg.Client.PersistentVolumes().Get(ctx, "", pvc.Spec.VolumeName)
	if err != nil {
		return podVolume{}, fmt.Errorf("persistentvolume %q of claim %q: %w", pvc.Spec.VolumeName, src.ClaimName, err)
	}
	var v podVolume
	switch {
	case pv.Spec.HostPath != nil:
		if v, err = hostPathVolume(pv.Spec.HostPath); err != nil {
			return podVolume{}, fmt.Errorf("persistentvolume %q: %w", pv.Name, err)
		}
	case pv.Spec.Local != nil:
		if v, err = hostPathVolume(&api.HostPathVolumeSource{Path: pv.Spec.Local.Path}); err != nil {
			return podVolume{}, fmt.Errorf("persistentvolume %q: %w", pv.Name, err)
		}
	default:
		return podVolume{}, fmt.Errorf("persistentvolume %q is neither local nor hostPath, which is all this kubelet mounts", pv.Name)
	}
	v.readOnly = src.ReadOnly
	return v, nil
}

// volumeMounts maps a container's volumeMounts to runtime mounts. A
// subPath of a directory volume is created when missing (as Kubernetes
// does); tmpfs volumes take no subPath here.
func (k *Kubelet) volumeMounts(pod *api.Pod, c *api.Container) ([]runtime.Mount, error) {
	vols := k.volumesOf(string(pod.UID))
	var out []runtime.Mount
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %s: the pod has no volume %q (or it is not set up)", vm.MountPath, vm.Name)
		}
		m := runtime.Mount{ContainerPath: path.Clean(vm.MountPath), ReadOnly: vm.ReadOnly || v.readOnly}
		if v.tmpfs {
			if vm.SubPath != "" {
				return nil, fmt.Errorf("volumeMount %s: subPath is not supported for a Memory emptyDir", vm.MountPath)
			}
			m.Type, m.Name, m.SizeLimit = runtime.MountTmpfs, vm.Name, v.sizeLimit
			out = append(out, m)
			continue
		}
		m.HostPath = v.hostPath
		if vm.SubPath != "" {
			sub := vm.SubPath
			if strings.HasPrefix(sub, "/") || path.Clean(sub) != sub || sub == ".." || strings.HasPrefix(sub, "../") || strings.Contains(sub, "/../") {
				return nil, fmt.Errorf("volumeMount %s: subPath %q must be a relative path without '..'", vm.MountPath, sub)
			}
			m.HostPath = filepath.Join(v.hostPath, sub)
			if _, err := os.Lstat(m.HostPath); errors.Is(err, fs.ErrNotExist) {
				if err := os.MkdirAll(m.HostPath, 0o755); err != nil {
					return nil, fmt.Errorf("volumeMount %s: creating subPath: %w", vm.MountPath, err)
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}
