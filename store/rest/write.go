package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/watch"
)

// maxUpdateRetries bounds the retries of an update without a
// resourceVersion precondition that keeps losing races.
const maxUpdateRetries = 16

func (h *Handler[T]) attributes(info RequestInfo, verb string, obj, old store.Object) Attributes {
	return Attributes{Verb: verb, Resource: h.res, Namespace: info.Namespace, Name: info.Name,
		Subresource: info.Subresource, Object: obj, OldObject: old}
}

func (h *Handler[T]) create(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	ctx, err := writeContext(ctx, r.URL.Query())
	if err != nil {
		return err
	}
	obj, err := h.readObject(w, r)
	if err != nil {
		return err
	}
	m := obj.GetObjectMeta()
	if h.res.Namespaced {
		if m.Namespace == "" {
			m.Namespace = info.Namespace
		} else if m.Namespace != info.Namespace {
			return badRequest("the namespace of the provided object (%q) does not match the namespace sent on the request (%q)", m.Namespace, info.Namespace)
		}
	}
	if m.ResourceVersion != "" {
		return badRequest("metadata.resourceVersion: must not be set on create")
	}
	if m.Name == "" && m.GenerateName == "" {
		return store.FieldErrors{{Field: "metadata.name", Reason: "Required value: name or generateName is required"}}
	}
	if m.Name == "" {
		// Generated before validation, so that the kind's own name rules
		// check the name that would be stored, as Kubernetes does, and
		// errors name the object.
		m.Name = store.GenerateName(m.GenerateName)
	}
	info.Name = m.Name
	out, err := h.createObject(ctx, info, obj)
	if err != nil {
		return &namedError{m.Name, err}
	}
	return h.writeObject(w, r, info, http.StatusCreated, out)
}

// createObject prepares, defaults, admits, validates and stores a new
// object.
func (h *Handler[T]) createObject(ctx context.Context, info RequestInfo, obj T) (T, error) {
	var zero, out T
	// the UID too is known before preparation (a Job's selector names it)
	m := obj.GetObjectMeta()
	m.UID = store.NewUID()
	ctx = store.WithUID(ctx, m.UID)
	h.rules.prepareCreate(obj)
	h.rules.Default(obj)
	h.track(ctx, info, obj, zero, true)
	attrs := h.attributes(info, "create", obj, nil)
	if err := h.admit.admit(ctx, attrs); err != nil {
		return zero, err
	}
	if err := h.rules.Validate(obj); err != nil {
		return zero, err
	}
	err := h.admit.validate(ctx, attrs, func(ctx context.Context) (err error) {
		out, err = h.st.Create(ctx, obj)
		return err
	})
	return out, err
}

// modify reads the object, lets fn build its replacement from a private
// copy, and writes it after defaulting, admission and validation. When the
// replacement has no resourceVersion the write is unconditional: it is
// made against the version read and retried on conflict. A replacement
// with a resourceVersion is a precondition: another version gives 409.
func (h *Handler[T]) modify(ctx context.Context, info RequestInfo, verb string, fn func(old T) (T, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		old, err := h.st.Get(ctx, info.Namespace, info.Name)
		if err != nil {
			return zero, err
		}
		obj, err := fn(store.Clone(old))
		if err != nil {
			return zero, err
		}
		m, om := obj.GetObjectMeta(), old.GetObjectMeta()
		if m.Name != info.Name {
			return zero, badRequest("the name of the object (%q) does not match the name on the URL (%q)", m.Name, info.Name)
		}
		if h.res.Namespaced && m.Namespace != info.Namespace {
			return zero, badRequest("the namespace of the object (%q) does not match the namespace on the URL (%q)", m.Namespace, info.Namespace)
		}
		if m.UID != "" && m.UID != om.UID {
			return zero, &store.ConflictError{Key: h.st.Key(info.Namespace, info.Name)}
		}
		unconditional := m.ResourceVersion == ""
		if unconditional {
			m.ResourceVersion = om.ResourceVersion
		} else if m.ResourceVersion != om.ResourceVersion {
			if _, err := store.ParseRevision(m.ResourceVersion); err != nil {
				return zero, badRequest("invalid metadata.resourceVersion %q", m.ResourceVersion)
			}
			return zero, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf(
				"Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again",
				h.qualifiedResource(), info.Name))
		}
		h.rules.Default(obj)
		h.track(ctx, info, obj, old, false)
		attrs := h.attributes(info, verb, obj, old)
		if err := h.admit.admit(ctx, attrs); err != nil {
			return zero, err
		}
		if err := h.rules.ValidateUpdate(obj, old); err != nil {
			return zero, err
		}
		var out T
		err = h.admit.validate(ctx, attrs, func(ctx context.Context) (err error) {
			out, err = h.st.Update(ctx, obj)
			return err
		})
		if err != nil && unconditional && errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFenced) && attempt < maxUpdateRetries {
			continue
		}
		return out, err
	}
}

// prepare applies the subresource rules to a replacement: a status update
// keeps everything but the status; a main update keeps the status.
func (h *Handler[T]) prepare(info RequestInfo, obj, old T) T {
	if info.Subresource == "status" {
		return h.rules.status.PrepareForStatusUpdate(obj, old)
	}
	if info.Subresource != "" {
		return h.rules.subresources.PrepareForSubresourceUpdate(info.Subresource, obj, old)
	}
	h.rules.prepareUpdate(obj, old)
	return obj
}

func (h *Handler[T]) update(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	if info.Name == "" {
		return methodNotAllowed(r.Method, h.res.Name)
	}
	ctx, err := writeContext(ctx, r.URL.Query())
	if err != nil {
		return err
	}
	in, err := h.readObject(w, r)
	if err != nil {
		return err
	}
	if h.res.Namespaced && in.GetObjectMeta().Namespace == "" {
		in.GetObjectMeta().Namespace = info.Namespace
	}
	out, err := h.modify(ctx, info, "update", func(old T) (T, error) {
		return h.prepare(info, store.Clone(in), old), nil
	})
	if err != nil {
		return err
	}
	return h.writeObject(w, r, info, http.StatusOK, out)
}

func (h *Handler[T]) patch(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	if info.Name == "" {
		return methodNotAllowed(r.Method, h.res.Name)
	}
	pt, err := patch.ParseType(r.Header.Get("Content-Type"))
	if err != nil {
		return watch.NewStatusError(http.StatusUnsupportedMediaType, watch.StatusReasonUnsupportedMediaType, err.Error())
	}
	if ctx, err = writeContext(ctx, r.URL.Query()); err != nil {
		return err
	}
	if pt == patch.ApplyPatchType {
		return h.apply(ctx, w, r, info)
	}
	if r.URL.Query().Has("force") {
		return invalidOption("patch", "force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch")
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	out, err := h.modify(ctx, info, "patch", func(old T) (T, error) {
		var zero T
		// The patch sees the object as stored, resourceVersion included, so
		// a JSON patch can test it; a patch that changes it makes it a
		// precondition (409 if the object has moved on), as in Kubernetes.
		rv := old.GetObjectMeta().ResourceVersion
		doc, err := json.Marshal(old)
		if err != nil {
			return zero, err
		}
		patched, err := patch.Apply(pt, doc, body, h.rules.schema, patch.WithMaxAddedBytes(h.maxBody))
		if err != nil {
			return zero, patchError(err)
		}
		obj, err := h.decodeObject(w, r, patched)
		if err != nil {
			return zero, err
		}
		if m := obj.GetObjectMeta(); m.ResourceVersion == rv {
			// Left as read: no precondition, so a lost race is retried.
			// A patch that sets another version makes it one (kubectl's
			// managedFields migration replaces it with the version it read).
			m.ResourceVersion = ""
		}
		return h.prepare(info, obj, old), nil
	})
	if err != nil {
		return err
	}
	return h.writeObject(w, r, info, http.StatusOK, out)
}

// patchError answers a patch that does not apply (a missing path, a failed
// test, a result over the bound) with 422, too many operations with 413,
// and a malformed patch with 400, as Kubernetes does; none writes anything.
func patchError(err error) error {
	switch {
	case errors.Is(err, patch.ErrNotApplicable):
		return watch.NewStatusError(http.StatusUnprocessableEntity, watch.StatusReasonInvalid, "the patch does not apply: "+err.Error())
	case errors.Is(err, patch.ErrTooManyOperations):
		return watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge, err.Error())
	}
	return badRequest("applying patch: %v", err)
}

func (h *Handler[T]) delete(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	ctx, opts, grace, err := h.parseDeleteOptions(ctx, w, r)
	if err != nil {
		return err
	}
	var out T
	pending := false
	err = h.admit.validate(ctx, h.attributes(info, "delete", nil, nil), func(ctx context.Context) (err error) {
		out, pending, err = h.deleteObject(ctx, info.Namespace, info.Name, grace, opts...)
		return err
	})
	if err != nil {
		return err
	}
	if pending {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	code := http.StatusOK
	if out.GetObjectMeta().DeletionTimestamp != nil && len(out.GetObjectMeta().Finalizers) > 0 {
		code = http.StatusAccepted
	}
	return h.writeObject(w, r, info, code, out)
}

// deleteCollection deletes every object the list's selectors match, one
// by one (each through admission), and answers with the list of what it
// deleted. Objects that vanish meanwhile are skipped; the first other
// error stops it (the objects deleted before stay deleted, as in
// Kubernetes).
func (h *Handler[T]) deleteCollection(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	sel, filter, err := h.selectors(r)
	if err != nil {
		return err
	}
	ctx, opts, grace, err := h.parseDeleteOptions(ctx, w, r)
	if err != nil {
		return err
	}
	if p := store.ResolveDeleteOptions(opts...); p.UID != "" || p.ResourceVersion != "" {
		return badRequest("preconditions are not supported when deleting a collection")
	}
	l, err := h.st.List(ctx, info.Namespace, store.ListOptions{Selector: sel, Filter: filter})
	if err != nil {
		return err
	}
	deleted := make([]T, 0, len(l.Items))
	for _, obj := range l.Items {
		m := obj.GetObjectMeta()
		one := info
		one.Namespace, one.Name, one.Verb = m.Namespace, m.Name, "delete"
		var out T
		err := h.admit.validate(ctx, h.attributes(one, "delete", nil, nil), func(ctx context.Context) (err error) {
			out, _, err = h.deleteObject(ctx, m.Namespace, m.Name, grace, append(opts, store.WithPreconditionUID(m.UID))...)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		deleted = append(deleted, out)
	}
	return h.writeList(w, r, info, deleted, store.FormatRevision(l.Revision), "")
}

// scaleWire is the part of an autoscaling/v1 Scale that a write reads.
type scaleWire struct {
	Metadata struct {
		Name            string `json:"name"`
		Namespace       string `json:"namespace"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Spec struct {
		Replicas *int32 `json:"replicas"`
	} `json:"spec"`
}

func (h *Handler[T]) serveScale(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	sc := h.rules.scale
	out, err := negotiate(r.Header.Get("Accept"), negotiation{protobuf: h.scaleProtobuf()})
	if err != nil {
		return err
	}
	switch info.Verb {
	case "get":
		obj, err := h.st.Get(ctx, info.Namespace, info.Name)
		if err != nil {
			return err
		}
		return writeScale(w, out, sc.Scale(obj))
	case "update", "patch":
	default:
		return methodNotAllowed(r.Method, h.res.Name+"/scale")
	}
	var pt patch.Type
	in := formatJSON
	if info.Verb == "patch" {
		if pt, err = patch.ParseType(r.Header.Get("Content-Type")); err != nil {
			return watch.NewStatusError(http.StatusUnsupportedMediaType, watch.StatusReasonUnsupportedMediaType, err.Error())
		}
		if pt == patch.ApplyPatchType {
			return watch.NewStatusError(http.StatusUnsupportedMediaType, watch.StatusReasonUnsupportedMediaType,
				"server-side apply is not supported on the scale subresource: patch it with a merge or JSON patch")
		}
	} else if in, err = inputFormat(r, true); err != nil {
		return err
	}
	if ctx, err = writeContext(ctx, r.URL.Query()); err != nil {
		return err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	var fromProto scaleWire
	if in == formatProtobuf {
		if fromProto, err = h.decodeScaleProtobuf(body); err != nil {
			return err
		}
	}
	obj, err := h.modify(ctx, info, "update", func(old T) (T, error) {
		var zero T
		rv := old.GetObjectMeta().ResourceVersion
		doc, err := json.Marshal(sc.Scale(old))
		if err != nil {
			return zero, err
		}
		if info.Verb == "patch" {
			if doc, err = patch.Apply(pt, doc, body, nil, patch.WithMaxAddedBytes(h.maxBody)); err != nil {
				return zero, patchError(err)
			}
		} else {
			doc = body
		}
		s := fromProto
		if in == formatJSON {
			if err := json.Unmarshal(doc, &s); err != nil {
				return zero, badRequest("decoding Scale: %v", err)
			}
		}
		if s.Spec.Replicas == nil {
			return zero, store.FieldErrors{{Field: "spec.replicas", Reason: "Required value"}}
		}
		if *s.Spec.Replicas < 0 {
			return zero, store.FieldErrors{{Field: "spec.replicas", Value: fmt.Sprint(*s.Spec.Replicas), Reason: "Invalid value: must be greater than or equal to 0"}}
		}
		if s.Metadata.Name != "" && s.Metadata.Name != info.Name {
			return zero, badRequest("the name of the Scale (%q) does not match the name on the URL (%q)", s.Metadata.Name, info.Name)
		}
		sc.SetReplicas(old, *s.Spec.Replicas)
		old.GetObjectMeta().ResourceVersion = s.Metadata.ResourceVersion
		if info.Verb == "patch" && s.Metadata.ResourceVersion == rv {
			old.GetObjectMeta().ResourceVersion = "" // not changed by the patch
		}
		return old, nil
	})
	if err != nil {
		return err
	}
	return writeScale(w, out, sc.Scale(obj))
}
