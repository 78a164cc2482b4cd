package fieldmanager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/setpoint-dev/setpoint/store"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Operations of managedFields entries, as Kubernetes names them.
const (
	// OperationApply marks fields a manager set by server-side apply.
	OperationApply = "Apply"
	// OperationUpdate marks fields a manager changed by any other write.
	OperationUpdate = "Update"
)

// fieldsTypeV1 is the only format of managedFields entries.
const fieldsTypeV1 = "FieldsV1"

// managerID identifies one managedFields entry inside the merge: entries
// with the same manager, operation, subresource (and, for updates,
// apiVersion) are one entry. Its JSON form is the key of a
// fieldpath.ManagedFields.
type managerID struct {
	Manager     string `json:"manager,omitempty"`
	Operation   string `json:"operation,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

func (id managerID) key() string {
	if id.Operation == OperationApply {
		id.APIVersion = "" // an applier is the same manager whatever version it applied
	}
	b, err := json.Marshal(id)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return string(b)
}

func parseManagerID(key string) (managerID, error) {
	var id managerID
	err := json.Unmarshal([]byte(key), &id)
	return id, err
}

// managed is the decoded managedFields of an object: each manager's
// fields, and when it last changed them.
type managed struct {
	fields fieldpath.ManagedFields
	times  map[string]*store.Time
}

func newManaged() managed {
	return managed{fields: fieldpath.ManagedFields{}, times: map[string]*store.Time{}}
}

// isReset reports whether a request's managedFields ask to clear them: an
// empty (but present) list, or one empty entry.
func isReset(entries []store.ManagedFieldsEntry) bool {
	switch len(entries) {
	case 0:
		return entries != nil
	case 1:
		e := entries[0]
		return e.Manager == "" && e.Operation == "" && e.APIVersion == "" && e.Time == nil &&
			e.FieldsType == "" && e.FieldsV1 == nil && e.Subresource == ""
	}
	return false
}

// decodeManaged decodes managedFields entries. An entry with another
// fieldsType or operation, undecodable fields, or a second entry for the
// same manager is an error naming the entry.
func decodeManaged(entries []store.ManagedFieldsEntry) (managed, error) {
	m := newManaged()
	for i, e := range entries {
		if e.FieldsType != fieldsTypeV1 {
			return managed{}, fmt.Errorf("managedFields[%d]: fieldsType must be %q, not %q", i, fieldsTypeV1, e.FieldsType)
		}
		if e.Operation != OperationApply && e.Operation != OperationUpdate {
			return managed{}, fmt.Errorf("managedFields[%d]: operation must be Apply or Update, not %q", i, e.Operation)
		}
		set := fieldpath.NewSet()
		if e.FieldsV1 != nil && len(e.FieldsV1.Raw) > 0 {
			if err := set.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
				return managed{}, fmt.Errorf("managedFields[%d]: decoding fieldsV1: %w", i, err)
			}
		}
		id := managerID{Manager: e.Manager, Operation: e.Operation, APIVersion: e.APIVersion, Subresource: e.Subresource}.key()
		if _, dup := m.fields[id]; dup {
			return managed{}, fmt.Errorf("managedFields[%d]: a second entry for manager %q (operation %s)", i, e.Manager, e.Operation)
		}
		m.fields[id] = fieldpath.NewVersionedSet(set, fieldpath.APIVersion(e.APIVersion), e.Operation == OperationApply)
		if e.Time != nil {
			t := *e.Time
			m.times[id] = &t
		}
	}
	return m, nil
}

// encode returns the managedFields entries of m in Kubernetes' order:
// Apply before Update, then oldest first, then by manager, apiVersion and
// subresource. Managers without fields are left out; nil if none remain.
func (m managed) encode() ([]store.ManagedFieldsEntry, error) {
	var out []store.ManagedFieldsEntry
	for key, vs := range m.fields {
		if vs.Set().Empty() {
			continue
		}
		id, err := parseManagerID(key)
		if err != nil {
			return nil, fmt.Errorf("fieldmanager: bad manager key %q: %w", key, err)
		}
		raw, err := vs.Set().ToJSON()
		if err != nil {
			return nil, fmt.Errorf("fieldmanager: encoding the fields of %q: %w", id.Manager, err)
		}
		e := store.ManagedFieldsEntry{
			Manager: id.Manager, Operation: id.Operation, APIVersion: string(vs.APIVersion()),
			FieldsType: fieldsTypeV1, FieldsV1: &store.FieldsV1{Raw: raw}, Subresource: id.Subresource,
		}
		if t := m.times[key]; t != nil {
			tc := *t
			e.Time = &tc
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		p, q := &out[i], &out[j]
		if p.Operation != q.Operation {
			return p.Operation < q.Operation
		}
		if ps, qs := unix(p.Time), unix(q.Time); ps != qs {
			return ps < qs
		}
		if p.Manager != q.Manager {
			return p.Manager < q.Manager
		}
		if p.APIVersion != q.APIVersion {
			return p.APIVersion < q.APIVersion
		}
		return p.Subresource < q.Subresource
	})
	return out, nil
}

func unix(t *store.Time) int64 {
	if t == nil || t.IsZero() {
		return 0
	}
	return t.Unix()
}
