package kubelet

import (
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// DefaultTerminationMessagePath is where a container writes its
// termination message unless terminationMessagePath says otherwise.
const DefaultTerminationMessagePath = "/dev/termination-log"

// Limits of a termination message, Kubernetes': the file is read up to
// 4096 bytes; the log fallback takes at most the last 80 lines and 2048
// bytes.
const (
	maxTerminationMessage = 4096
	fallbackLogLines      = 80
	fallbackLogBytes      = 2048
)

// terminationMessagePath is the container's terminationMessagePath, clean.
func terminationMessagePath(c *api.Container) string {
	if c.TerminationMessagePath == "" {
		return DefaultTerminationMessagePath
	}
	return path.Clean(c.TerminationMessagePath)
}

// terminationLog is the node file mounted at attempt's termination message
// path; create makes it (empty, writable by anyone, as Kubernetes does).
func (k *Kubelet) terminationLog(pod *api.Pod, name string, attempt uint32, create bool) (string, error) {
	p := filepath.Join(k.podDir(string(pod.UID)), "containers", name, strconv.FormatUint(uint64(attempt), 10)+"-termination-log")
	if !create {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o666)
	if err != nil {
		return "", err
	}
	f.Close()
	return p, os.Chmod(p, 0o666)
}

// terminatedOf reports an exited container with its termination
// message: the file the container wrote at its terminationMessagePath,
// or, with terminationMessagePolicy FallbackToLogsOnError, the tail of
// its log when the file is empty and the container failed.
func (k *Kubelet) terminatedOf(pod *api.Pod, c *api.Container, st runtime.ContainerStatus) *api.ContainerStateTerminated {
	t := terminated(st)
	if f, err := k.terminationLog(pod, c.Name, st.Attempt, false); err == nil {
		if fh, err := os.Open(f); err == nil {
			b, _ := io.ReadAll(io.LimitReader(fh, maxTerminationMessage))
			fh.Close()
			t.Message = string(b)
		}
	}
	if t.Message == "" && st.ExitCode != 0 && c.TerminationMessagePolicy == api.TerminationMessageFallbackToLogsOnError {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if r, err := k.rt.Logs(ctx, st.ID, runtime.LogOptions{Tail: fallbackLogLines}); err == nil {
			b, _ := io.ReadAll(r)
			r.Close()
			if len(b) > fallbackLogBytes {
				b = b[len(b)-fallbackLogBytes:]
			}
			t.Message = strings.TrimRight(string(b), "\n")
		}
	}
	return t
}
