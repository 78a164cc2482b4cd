package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
	"github.com/setpoint-dev/setpoint/watch"
)

// MaxFieldManagerLength is the longest field manager name, in bytes, as
// in Kubernetes.
const MaxFieldManagerLength = 128

// writeOwner is who makes a write: the field manager its managedFields
// entry is recorded under. It travels in the request's context from serve
// to the write paths.
type writeOwner struct {
	manager string
	// applied: the write is a server-side apply, whose managedFields the
	// field manager already computed; the update tracking skips it.
	applied bool
}

type writeOwnerKey struct{}

func ownerFrom(ctx context.Context) (writeOwner, bool) {
	o, ok := ctx.Value(writeOwnerKey{}).(writeOwner)
	return o, ok
}

func withOwner(ctx context.Context, o writeOwner) context.Context {
	return context.WithValue(ctx, writeOwnerKey{}, o)
}

// optionsKind names the options object whose fieldManager is checked, in
// errors: CreateOptions, UpdateOptions or PatchOptions.
func optionsKind(verb string) string {
	switch verb {
	case "create":
		return "CreateOptions"
	case "patch":
		return "PatchOptions"
	}
	return "UpdateOptions"
}

// invalidOption is the 422 Kubernetes answers for one bad option of a
// write verb: `PatchOptions.meta.k8s.io "" is invalid: fieldManager: ...`.
func invalidOption(verb, field, reasonType, message string) error {
	return invalidOptions(optionsKind(verb), []watch.StatusCause{{Type: reasonType, Message: message, Field: field}})
}

// requestOwner returns the field manager of a write: the fieldManager
// parameter, or else the product part of the User-Agent (up to its first
// "/", printable characters only, at most MaxFieldManagerLength bytes),
// as Kubernetes records updates. A fieldManager that is too long or has
// unprintable characters is a 422.
func requestOwner(r *http.Request, verb string) (writeOwner, error) {
	name := r.URL.Query().Get("fieldManager")
	if name == "" {
		return writeOwner{manager: userAgentManager(r.UserAgent())}, nil
	}
	if len(name) > MaxFieldManagerLength {
		return writeOwner{}, invalidOption(verb, "fieldManager", "FieldValueTooLong",
			fmt.Sprintf("Too long: may not be more than %d bytes", MaxFieldManagerLength))
	}
	for _, c := range name {
		if !unicode.IsPrint(c) {
			return writeOwner{}, invalidOption(verb, "fieldManager", "FieldValueInvalid",
				fmt.Sprintf("Invalid value: %q: must only contain printable characters", name))
		}
	}
	return writeOwner{manager: name}, nil
}

// userAgentManager derives a manager name from a User-Agent such as
// "kubectl/v1.32.0 (linux/amd64) kubernetes/abc": "kubectl".
func userAgentManager(ua string) string {
	product, _, _ := strings.Cut(ua, "/")
	var b strings.Builder
	for _, c := range product {
		if !unicode.IsPrint(c) {
			continue
		}
		if b.Len()+utf8.RuneLen(c) > MaxFieldManagerLength {
			break
		}
		b.WriteRune(c)
	}
	return b.String()
}

// unstructured encodes obj in the field manager's form, without
// metadata.managedFields.
func unstructured(obj store.Object) (map[string]any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	v, err := fieldmanager.DecodeJSON(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%T does not encode as a JSON object", obj)
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return m, nil
}

// newFieldManager returns the field manager of the handler's resource.
func (h *Handler[T]) newFieldManager() (*fieldmanager.Manager, error) {
	empty := h.newObject()
	tm := empty.GetTypeMeta()
	tm.APIVersion, tm.Kind = h.res.APIVersion, h.res.Kind
	u, err := unstructured(empty)
	if err != nil {
		return nil, fmt.Errorf("rest: encoding an empty %s: %w", h.res.Kind, err)
	}
	return fieldmanager.New(fieldmanager.Config{
		APIVersion: h.res.APIVersion, Kind: h.res.Kind, Type: h.rules.applyType, Empty: u,
		StatusSubresource: h.rules.status != nil, Clock: h.cfg.Clock,
	})
}

// track sets obj's managedFields for a write that is not an apply: the
// request's manager owns what it changed from old (the zero T for a
// create). As in Kubernetes, a failure to track never fails the write:
// obj keeps old's managedFields and the failure is logged.
func (h *Handler[T]) track(ctx context.Context, info RequestInfo, obj, old T, create bool) {
	o, ok := ownerFrom(ctx)
	if !ok || o.applied {
		return
	}
	om := obj.GetObjectMeta()
	var live map[string]any
	var liveFields []store.ManagedFieldsEntry
	err := func() error {
		if !create {
			liveFields = old.GetObjectMeta().ManagedFields
			var err error
			if live, err = unstructured(old); err != nil {
				return err
			}
		}
		n, err := unstructured(obj)
		if err != nil {
			return err
		}
		fields, err := h.fm.Update(live, n, liveFields, om.ManagedFields, fieldmanager.Operation{Manager: o.manager, Subresource: info.Subresource})
		if err != nil {
			return err
		}
		om.ManagedFields = fields
		return nil
	}()
	if err != nil {
		h.log.Warn("managedFields not updated", "resource", h.res.Name, "namespace", info.Namespace, "name", info.Name, "err", err)
		om.ManagedFields = liveFields
	}
}
