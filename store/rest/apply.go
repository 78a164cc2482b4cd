package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
	"github.com/setpoint-dev/setpoint/watch"
	"sigs.k8s.io/yaml"
)

// CauseFieldManagerConflict is the cause type of an apply conflict, as in
// Kubernetes.
const CauseFieldManagerConflict = "FieldManagerConflict"

// applyConfig is a decoded apply request.
type applyConfig struct {
	obj    map[string]any
	owner  writeOwner
	force  bool
	strict bool
}

// parseApply decodes and checks an apply request: a fieldManager, force
// (true or false, default false) and a body that is one YAML or JSON
// object of this resource's apiVersion and kind, without managedFields,
// whose name and namespace, when set, are the URL's (they are filled in
// when not). Errors are 400s, or 422 without a fieldManager.
func (h *Handler[T]) parseApply(r *http.Request, info RequestInfo, body []byte) (*applyConfig, error) {
	q := r.URL.Query()
	if q.Get("fieldManager") == "" {
		return nil, invalidOption("patch", "fieldManager", "FieldValueRequired", "Required value: is required for apply patch")
	}
	owner, err := requestOwner(r, "patch")
	if err != nil {
		return nil, err
	}
	ac := &applyConfig{owner: owner, strict: strings.EqualFold(q.Get("fieldValidation"), "Strict")}
	switch f := q.Get("force"); f {
	case "", "false":
	case "true":
		ac.force = true
	default:
		return nil, badRequest("invalid force %q: must be true or false", f)
	}
	v, err := decodeApplyBody(body, ac.strict)
	if err != nil {
		return nil, badRequest("error decoding YAML: %v", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("error decoding YAML: the applied configuration must be an object, not %s", jsonKind(v))
	}
	if av, kind := obj["apiVersion"], obj["kind"]; av != h.res.APIVersion || kind != h.res.Kind {
		return nil, badRequest("invalid object type: the applied configuration's apiVersion %s and kind %s must be %q and %q",
			quoteOrMissing(av), quoteOrMissing(kind), h.res.APIVersion, h.res.Kind)
	}
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		if obj["metadata"] != nil {
			return nil, badRequest("metadata of the applied configuration must be an object")
		}
		md = map[string]any{}
		obj["metadata"] = md
	}
	if _, ok := md["managedFields"]; ok {
		return nil, badRequest("metadata.managedFields must be nil")
	}
	if err := fillMeta(md, "name", info.Name, "the name of the object (%q) does not match the name on the URL (%q)"); err != nil {
		return nil, err
	}
	if h.res.Namespaced {
		if err := fillMeta(md, "namespace", info.Namespace, "the namespace of the provided object (%q) does not match the namespace sent on the request (%q)"); err != nil {
			return nil, err
		}
	}
	ac.obj = obj
	return ac, nil
}

// fillMeta sets metadata[key] to want when it is missing; another value
// is a 400 with mismatch formatted with the value and want.
func fillMeta(md map[string]any, key, want, mismatch string) error {
	switch v := md[key].(type) {
	case nil:
		md[key] = want
	case string:
		if v != want {
			return badRequest(mismatch, v, want)
		}
	default:
		return badRequest("metadata.%s must be a string", key)
	}
	return nil
}

// decodeApplyBody decodes a JSON body directly and anything else as YAML
// (strictly: duplicate keys are errors with fieldValidation=Strict).
func decodeApplyBody(body []byte, strict bool) (any, error) {
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' && !strict {
		if v, err := fieldmanager.DecodeJSON(t); err == nil {
			return v, nil
		}
	}
	toJSON := yaml.YAMLToJSON
	if strict {
		toJSON = yaml.YAMLToJSONStrict
	}
	j, err := toJSON(body)
	if err != nil {
		return nil, err
	}
	return fieldmanager.DecodeJSON(j)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

func quoteOrMissing(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	if v == nil {
		return "(missing)"
	}
	return fmt.Sprintf("%v", v)
}

// apply serves a server-side apply (PATCH with application/apply-patch+yaml):
// the configuration is merged into the stored object by the field
// manager, or creates the object when there is none (through the resource
// itself; a subresource apply needs an object). The result passes the
// same preparation, defaulting, admission and validation as any write.
func (h *Handler[T]) apply(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	if info.Name == "" {
		return methodNotAllowed(r.Method, h.res.Name)
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	ac, err := h.parseApply(r, info, body)
	if err != nil {
		return err
	}
	ac.owner.applied = true
	ctx = withOwner(ctx, ac.owner)
	op := fieldmanager.Operation{Manager: ac.owner.manager, Subresource: info.Subresource}
	for attempt := 0; ; attempt++ {
		out, err := h.modify(ctx, info, "patch", func(old T) (T, error) {
			var zero T
			om := old.GetObjectMeta()
			liveFields := om.ManagedFields
			om.ResourceVersion = "" // only a resourceVersion in the configuration is a precondition
			live, err := unstructured(old)
			if err != nil {
				return zero, err
			}
			merged, fields, err := h.fm.Apply(live, ac.obj, liveFields, op, ac.force)
			if err != nil {
				return zero, applyError(err)
			}
			obj := old
			if merged != nil {
				if obj, err = h.decodeMerged(r, merged); err != nil {
					return zero, err
				}
			}
			// after preparation: a status update keeps the stored metadata
			obj = h.prepare(info, obj, old)
			obj.GetObjectMeta().ManagedFields = fields
			return obj, nil
		})
		if errors.Is(err, store.ErrNotFound) && info.Subresource == "" {
			var created bool
			out, created, err = h.applyCreate(ctx, r, info, ac, op)
			if !created && err == nil && attempt < maxUpdateRetries {
				continue // created by another writer meanwhile: merge into theirs
			}
			if err == nil {
				writeJSON(w, http.StatusCreated, out)
				return nil
			}
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// applyCreate creates the object an apply names. created is false (and
// err nil) when another writer created it first.
func (h *Handler[T]) applyCreate(ctx context.Context, r *http.Request, info RequestInfo, ac *applyConfig, op fieldmanager.Operation) (T, bool, error) {
	var zero T
	merged, fields, err := h.fm.Apply(nil, ac.obj, nil, op, ac.force)
	if err != nil {
		return zero, false, applyError(err)
	}
	obj, err := h.decodeMerged(r, merged)
	if err != nil {
		return zero, false, err
	}
	m := obj.GetObjectMeta()
	if m.ResourceVersion != "" || m.UID != "" {
		return zero, false, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf(
			"Operation cannot be fulfilled on %s %q: the applied configuration names a resourceVersion or uid, and there is no such object", h.res.Name, info.Name))
	}
	m.ManagedFields = fields
	out, err := h.createObject(ctx, info, obj)
	if errors.Is(err, store.ErrAlreadyExists) {
		return zero, false, nil
	}
	return out, err == nil, err
}

// decodeMerged decodes a merged object into T. Unknown fields (possible
// only where the schema is deduced) are dropped, or a 400 with
// fieldValidation=Strict.
func (h *Handler[T]) decodeMerged(r *http.Request, merged map[string]any) (T, error) {
	b, err := json.Marshal(merged)
	if err != nil {
		var zero T
		return zero, err
	}
	return h.decodeObject(r, b)
}

// applyError maps the field manager's errors: conflicts to 409 with one
// FieldManagerConflict cause per field, configurations that do not fit
// the schema to 400.
func applyError(err error) error {
	var ce *fieldmanager.ConflictError
	if errors.As(err, &ce) {
		s := watch.NewStatus(http.StatusConflict, watch.StatusReasonConflict, ce.Error())
		s.Details = &watch.StatusDetails{}
		for _, c := range ce.Conflicts {
			s.Details.Causes = append(s.Details.Causes, watch.StatusCause{Type: CauseFieldManagerConflict,
				Message: "conflict with " + c.Owner(), Field: c.Field})
		}
		return &watch.StatusError{Status: *s, Err: store.ErrConflict}
	}
	if errors.Is(err, fieldmanager.ErrInvalidConfig) {
		return &watch.StatusError{Status: *watch.NewStatus(http.StatusBadRequest, watch.StatusReasonBadRequest, err.Error()), Err: store.ErrInvalid}
	}
	return err
}
