package server

import (
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/watch"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// target is a resolved container of a pod.
type target struct {
	pod     *api.Pod
	handles PodHandles
	// id is the container's latest attempt ("" when it has none).
	id string
}

// resolve finds pod namespace/name and its container; the Status is the
// error to answer with (Kubernetes' kubelet wording).
func (s *Server) resolve(r *http.Request, namespace, name, container string) (target, *watch.Status) {
	pod, h, err := s.cfg.Host.Pod(r.Context(), namespace, name)
	if errors.Is(err, ErrPodNotFound) {
		return target{}, notFound("pod %q does not exist", name)
	}
	if err != nil {
		return target{}, watch.NewStatus(http.StatusInternalServerError, watch.StatusReasonInternalError, err.Error())
	}
	if uid := r.PathValue("uid"); uid != "" && uid != string(pod.UID) {
		return target{}, notFound("pod %q with UID %q does not exist", name, uid)
	}
	if !hasContainer(pod, container) {
		return target{}, notFound("container %q not found in pod %q", container, name)
	}
	return target{pod: pod, handles: h, id: h.Containers[container]}, nil
}

func hasContainer(pod *api.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// waitingReason is why container waits, from the pod's status.
func waitingReason(pod *api.Pod, container string) string {
	for _, list := range [][]api.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range list {
			if cs.Name == container && cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
				return cs.State.Waiting.Reason
			}
		}
	}
	return "ContainerCreating"
}

// logOptions parses the Kubernetes log query parameters.
func logOptions(q url.Values, now time.Time) (runtime.LogOptions, bool, *watch.Status) {
	var o runtime.LogOptions
	boolean := func(name string) (bool, *watch.Status) {
		v := q.Get(name)
		if v == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, badRequest("%s=%q is not a boolean", name, v)
		}
		return b, nil
	}
	var st *watch.Status
	if o.Follow, st = boolean("follow"); st != nil {
		return o, false, st
	}
	if o.Timestamps, st = boolean("timestamps"); st != nil {
		return o, false, st
	}
	previous, st := boolean("previous")
	if st != nil {
		return o, false, st
	}
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return o, false, badRequest("tailLines=%q is not an integer", v)
		case n < 0:
			return o, false, badRequest("tailLines: Invalid value: %d: must be greater than or equal to 0", n)
		case n == 0:
			o.Tail = runtime.TailNone
		default:
			o.Tail = int(n)
		}
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return o, false, badRequest("limitBytes=%q is not an integer", v)
		case n < 1:
			return o, false, badRequest("limitBytes: Invalid value: %d: must be greater than 0", n)
		}
		o.LimitBytes = n
	}
	secs, since := q.Get("sinceSeconds"), q.Get("sinceTime")
	if secs != "" && since != "" {
		return o, false, badRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
	}
	if secs != "" {
		n, err := strconv.ParseInt(secs, 10, 64)
		switch {
		case err != nil:
			return o, false, badRequest("sinceSeconds=%q is not an integer", secs)
		case n < 1:
			return o, false, badRequest("sinceSeconds: Invalid value: %d: must be greater than 0", n)
		}
		o.Since = now.Add(-time.Duration(n) * time.Second)
	}
	if since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return o, false, badRequest("sinceTime=%q is not an RFC 3339 time", since)
		}
		o.Since = t
	}
	return o, previous, nil
}

// serveLogs serves /containerLogs/<namespace>/<pod>/<container>.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request) {
	opts, previous, st := logOptions(r.URL.Query(), s.cfg.Clock.Now())
	if st != nil {
		writeStatus(w, st)
		return
	}
	ns, name, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	t, st := s.resolve(r, ns, name, container)
	if st != nil {
		writeStatus(w, st)
		return
	}
	id := t.id
	if previous {
		id = t.handles.Previous[container]
		if id == "" {
			writeStatus(w, badRequest("previous terminated container %q in pod %q not found", container, name))
			return
		}
	} else if id == "" {
		writeStatus(w, badRequest("container %q in pod %q is waiting to start: %s", container, name, waitingReason(t.pod, container)))
		return
	}
	rc, err := s.cfg.Host.Runtime().Logs(r.Context(), id, opts)
	if err != nil {
		writeStatus(w, runtimeStatus(err, container, name))
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(flushWriter{w}, rc)
}

// runtimeStatus maps a runtime error to a Status.
func runtimeStatus(err error, container, pod string) *watch.Status {
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		return notFound("container %q in pod %q not found: %v", container, pod, err)
	case errors.Is(err, runtime.ErrInvalid):
		return badRequest("%v", err)
	}
	return watch.NewStatus(http.StatusInternalServerError, watch.StatusReasonInternalError, err.Error())
}

// flushWriter flushes after every write, so a follower sees lines as
// they come.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = http.NewResponseController(f.w).Flush()
	}
	return n, err
}
