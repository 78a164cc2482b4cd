package controllerutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
)

// TemplatePatch returns the data of a StatefulSet's or DaemonSet's
// revision: a strategic merge patch that replaces spec.template with t,
// {"spec":{"template":{...,"$patch":"replace"}}}, the form Kubernetes
// stores so that `kubectl rollout undo` can apply it to the owner.
func TemplatePatch(t *api.PodTemplateSpec) ([]byte, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": m}})
}

// TemplateOf decodes the pod template of a revision made by
// TemplatePatch.
func TemplateOf(r *apps.ControllerRevision) (*api.PodTemplateSpec, error) {
	var d struct {
		Spec struct {
			Template api.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(r.Data.Raw, &d); err != nil {
		return nil, fmt.Errorf("revision %s/%s: %w", r.Namespace, r.Name, err)
	}
	return &d.Spec.Template, nil
}

// RevisionWriter is what EnsureRevision writes through (the typed
// ControllerRevisions client implements it).
type RevisionWriter interface {
	Create(ctx context.Context, r *apps.ControllerRevision) (*apps.ControllerRevision, error)
	Get(ctx context.Context, namespace, name string) (*apps.ControllerRevision, error)
	Update(ctx context.Context, r *apps.ControllerRevision) (*apps.ControllerRevision, error)
}

// EnsureRevision returns the owner's revision holding data, as
// Kubernetes' StatefulSet and DaemonSet controllers find their update
// revision: an existing revision with equal data is reused (renumbered to
// the next revision number unless it is already the newest, as after a
// rollback); otherwise one is created, and a name taken by a revision of
// other data raises the collision count and tries the next name. revs
// are the owner's revisions; the returned count is the collision count
// to record in the owner's status.
func EnsureRevision(ctx context.Context, w RevisionWriter, owner store.Object, res store.Resource, templateLabels map[string]string,
	revs []*apps.ControllerRevision, data []byte, collisionCount int32) (*apps.ControllerRevision, int32, error) {
	SortRevisions(revs)
	next := NextRevision(revs)
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		if string(r.Data.Raw) != string(data) {
			continue
		}
		if i == len(revs)-1 {
			return r, collisionCount, nil
		}
		up := r.DeepCopy()
		up.Revision = next
		out, err := w.Update(ctx, up)
		if err != nil {
			return nil, collisionCount, fmt.Errorf("renumber revision %s/%s: %w", r.Namespace, r.Name, err)
		}
		return out, collisionCount, nil
	}
	for range 10 {
		cc := collisionCount
		cr := NewControllerRevision(owner, res, templateLabels, data, next, &cc)
		out, err := w.Create(ctx, cr)
		if err == nil {
			return out, collisionCount, nil
		}
		if !errors.Is(err, store.ErrAlreadyExists) {
			return nil, collisionCount, fmt.Errorf("create revision %s/%s: %w", cr.Namespace, cr.Name, err)
		}
		got, gerr := w.Get(ctx, cr.Namespace, cr.Name)
		if gerr != nil {
			return nil, collisionCount, gerr
		}
		if ref := got.ControllerOf(); ref != nil && ref.UID == owner.GetObjectMeta().UID && string(got.Data.Raw) == string(data) {
			return got, collisionCount, nil // made by an earlier sync
		}
		collisionCount++
	}
	return nil, collisionCount, fmt.Errorf("create revision for %s/%s: too many hash collisions", owner.GetObjectMeta().Namespace, owner.GetObjectMeta().Name)
}

// HistoryToDelete returns the oldest of revs beyond limit that are not
// live (live: names in use by the owner's status or its pods).
func HistoryToDelete(revs []*apps.ControllerRevision, live map[string]bool, limit int) []*apps.ControllerRevision {
	SortRevisions(revs)
	var old []*apps.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			old = append(old, r)
		}
	}
	if len(old) <= limit {
		return nil
	}
	return old[:len(old)-limit]
}
