package store

// TEMPORARY stub for the informer branch only: the shapes below are copied from
// the typed store API in the store brief so that the informer compiles before
// the store lands on main. This file must be deleted when main is merged; the
// lead will not merge a branch that still has it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// ListOptions (stub) selects what List returns.
type ListOptions struct {
	Selector Selector
	Filter   func(Object) bool
	Limit    int64
	Continue string
	Revision int64
}

// List (stub) is one page of a list.
type List[T Object] struct {
	Items    []T
	Revision int64
	Continue string
}

// WatchOptions (stub) selects what Watch streams.
type WatchOptions struct {
	Selector      Selector
	Filter        func(Object) bool
	AfterRevision int64
	Bookmarks     bool
}

// Selector (stub): equality requirements only.
type Selector struct{ eq map[string]string }

// ParseSelector (stub) parses "a=b,c=d".
func ParseSelector(s string) (Selector, error) {
	sel := Selector{}
	if strings.TrimSpace(s) == "" {
		return sel, nil
	}
	sel.eq = map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			return Selector{}, fmt.Errorf("%w: selector %q", ErrInvalid, s)
		}
		sel.eq[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return sel, nil
}

// SelectorFromSet (stub).
func SelectorFromSet(labels map[string]string) Selector {
	if len(labels) == 0 {
		return Selector{}
	}
	m := make(map[string]string, len(labels))
	for k, v := range labels {
		m[k] = v
	}
	return Selector{eq: m}
}

// Matches (stub).
func (s Selector) Matches(labels map[string]string) bool {
	for k, v := range s.eq {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Empty (stub).
func (s Selector) Empty() bool { return len(s.eq) == 0 }

// String (stub).
func (s Selector) String() string {
	parts := make([]string, 0, len(s.eq))
	for k, v := range s.eq {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// ParseRevision (stub).
func ParseRevision(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: resourceVersion %q is not a revision", ErrInvalid, rv)
	}
	return n, nil
}

// FormatRevision (stub).
func FormatRevision(rev int64) string { return strconv.FormatInt(rev, 10) }

// Clone (stub): JSON round trip.
func Clone[T Object](obj T) T {
	var out T
	b, err := json.Marshal(obj)
	if err != nil {
		panic(errors.Join(errors.New("store.Clone"), err))
	}
	out = newOf(obj)
	if err := json.Unmarshal(b, out); err != nil {
		panic(errors.Join(errors.New("store.Clone"), err))
	}
	return out
}

// KeyOf (stub).
func KeyOf(obj Object) string {
	m := obj.GetObjectMeta()
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

func newOf[T Object](obj T) T {
	return reflect.New(reflect.TypeOf(obj).Elem()).Interface().(T)
}

// Resource (stub) describes one kind of stored object.
type Resource struct {
	Name       string
	APIVersion string
	Kind       string
	Namespaced bool
}
