package kubelet

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// payloadFile is one file of a volume whose content the kubelet writes
// (configMap, secret, downwardAPI, projected).
type payloadFile struct {
	data []byte
	mode fs.FileMode
}

// dataLink is the symlink naming a volume's current payload directory, as
// in Kubernetes' atomic writer.
const dataLink = "..data"

// checkPayloadPath checks a payload file's relative path: not empty, not
// absolute, clean, no ".." element and no element starting with "..".
func checkPayloadPath(p string) error {
	switch {
	case p == "":
		return errors.New("must not be empty")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q must be relative", p)
	case path.Clean(p) != p:
		return fmt.Errorf("path %q must be clean", p)
	case len(p) > 4096:
		return fmt.Errorf("path %q is too long", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." || strings.HasPrefix(el, "..") {
			return fmt.Errorf("path %q must not contain '..' or start an element with '..'", p)
		}
	}
	return nil
}

// writeAtomic makes dir show exactly files, so that a reader never sees a
// mix of two versions: the files are written to a new hidden directory,
// the ..data symlink is swapped to it with a rename, and each top-level
// name is a symlink through ..data. It changes nothing when dir already
// shows files (same contents and modes), and reports whether it changed
// dir. gid, when not negative, becomes the group of every file (fsGroup).
func writeAtomic(dir string, files map[string]payloadFile, gid int) (bool, error) {
	for p := range files {
		if err := checkPayloadPath(p); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	old, _ := os.Readlink(filepath.Join(dir, dataLink))
	if old != "" && sameFiles(filepath.Join(dir, old), files) {
		return false, nil
	}
	ts, err := os.MkdirTemp(dir, "..ts.")
	if err != nil {
		return false, err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return false, err
	}
	chown := func(p string) error {
		if gid < 0 {
			return nil
		}
		return os.Lchown(p, -1, gid)
	}
	top := map[string]bool{}
	for p, f := range files {
		full := filepath.Join(ts, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return false, err
		}
		// WriteFile's mode is masked by the umask.
		if err := os.Chmod(full, f.mode); err != nil {
			return false, err
		}
		if err := chown(full); err != nil {
			return false, err
		}
		top[strings.SplitN(p, "/", 2)[0]] = true
	}
	tmp := filepath.Join(dir, "..data_tmp")
	os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return false, err
	}
	for name := range top {
		link := filepath.Join(dir, name)
		if target, err := os.Readlink(link); err == nil && target == path.Join(dataLink, name) {
			continue
		}
		os.Remove(link)
		if err := os.Symlink(path.Join(dataLink, name), link); err != nil {
			return false, err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "..") {
			if n != dataLink && n != filepath.Base(ts) && n != "..data_tmp" {
				os.RemoveAll(filepath.Join(dir, n))
			}
			continue
		}
		if !top[n] {
			os.RemoveAll(filepath.Join(dir, n))
		}
	}
	return true, nil
}

// sameFiles reports whether dir holds exactly files.
func sameFiles(dir string, files map[string]payloadFile) bool {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		f, ok := files[filepath.ToSlash(rel)]
		if !ok {
			return fs.ErrNotExist
		}
		info, err := d.Info()
		if err != nil || info.Mode().Perm() != f.mode.Perm() {
			return fs.ErrInvalid
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, f.data) {
			return fs.ErrInvalid
		}
		n++
		return nil
	})
	return err == nil && n == len(files)
}
