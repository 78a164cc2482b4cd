package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// DefaultBinderName is the Bind plugin every profile ends with: a POST to
// pods/<name>/binding.
const DefaultBinderName = "DefaultBinder"

// defaultBinder binds through the pods/binding subresource, carrying the
// fences in the context (the leader's, under election).
type defaultBinder struct {
	hc     *http.Client
	server string
}

func (defaultBinder) Name() string { return DefaultBinderName }

func (b defaultBinder) Bind(ctx context.Context, _ *framework.CycleState, pod *api.Pod, node string) *framework.Status {
	bd := api.Binding{
		TypeMeta:   store.TypeMeta{APIVersion: "v1", Kind: "Binding"},
		ObjectMeta: store.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     api.ObjectReference{APIVersion: "v1", Kind: "Node", Name: node},
	}
	u := b.server + "/api/v1/namespaces/" + url.PathEscape(pod.Namespace) + "/pods/" + url.PathEscape(pod.Name) + "/binding"
	if err := b.send(ctx, http.MethodPost, u, &bd); err != nil {
		return framework.AsStatus(fmt.Errorf("binding pod %s/%s to node %s: %w", pod.Namespace, pod.Name, node, err))
	}
	return nil
}

// send sends obj as JSON and returns a *rest.ClientError for an error
// status, so that errors.Is finds the store sentinels.
func (b defaultBinder) send(ctx context.Context, method, u string, obj any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if f := store.FencesFrom(ctx); len(f) > 0 {
		req.Header[rest.FenceHeader] = rest.FormatFences(f)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 300 {
		return nil
	}
	var st watch.Status
	if json.Unmarshal(body, &st) != nil || st.Kind != "Status" {
		st = *watch.NewStatus(resp.StatusCode, http.StatusText(resp.StatusCode), strings.TrimSpace(string(body)))
	}
	if st.Code == 0 {
		st.Code = int32(resp.StatusCode)
	}
	return &rest.ClientError{Status: st}
}

// setUnschedulable writes the PodScheduled=False condition with the
// explanation through pods/<name>/status, keeping the transition time
// when the condition was already False. It retries on conflicts with a
// fresh read and stops when the pod is gone or got bound.
func (s *Scheduler) setUnschedulable(ctx context.Context, pod *api.Pod, reason, msg string) error {
	now := store.NewTime(s.cfg.Clock.Now())
	u := s.cfg.Client.Server() + "/api/v1/namespaces/" + url.PathEscape(pod.Namespace) + "/pods/" + url.PathEscape(pod.Name) + "/status"
	for range 5 {
		cur, err := s.cfg.Client.Pods().Get(ctx, pod.Namespace, pod.Name)
		if err != nil {
			return err
		}
		if cur.UID != pod.UID || cur.Spec.NodeName != "" {
			return nil
		}
		cond := api.PodCondition{Type: api.PodScheduled, Status: api.ConditionFalse, Reason: reason, Message: msg, LastTransitionTime: now}
		i := slices.IndexFunc(cur.Status.Conditions, func(c api.PodCondition) bool { return c.Type == api.PodScheduled })
		if i >= 0 {
			old := cur.Status.Conditions[i]
			if old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message {
				return nil
			}
			if old.Status == cond.Status {
				cond.LastTransitionTime = old.LastTransitionTime
			}
			cur.Status.Conditions[i] = cond
		} else {
			cur.Status.Conditions = append(cur.Status.Conditions, cond)
		}
		err = defaultBinder{hc: s.cfg.Client.HTTPClient()}.send(ctx, http.MethodPut, u, cur)
		if err == nil || !isConflict(err) {
			return err
		}
	}
	return fmt.Errorf("pod %s/%s: status kept changing", pod.Namespace, pod.Name)
}

func isConflict(err error) bool {
	ce, ok := err.(*rest.ClientError)
	return ok && ce.Status.Code == http.StatusConflict
}

// event records a core/v1 Event about the pod through the recorder:
// asynchronously, never blocking a scheduling or binding cycle.
func (s *Scheduler) event(ctx context.Context, pod *api.Pod, typ, reason, msg string) {
	s.events.Eventf(ctx, pod, api.PodResource, typ, reason, "%s", msg)
}
