package deepcopy

import (
	"reflect"
	"sync"
)

// Copy returns a deep copy of *src, or nil for nil.
func Copy[T any](src *T) *T {
	if src == nil {
		return nil
	}
	dst := new(T)
	copyValue(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem())
	return dst
}

var deepCache sync.Map // reflect.Type -> bool

// needsDeep reports whether a value of type t can reach shared mutable memory
// through exported fields.
func needsDeep(t reflect.Type) bool {
	if v, ok := deepCache.Load(t); ok {
		return v.(bool)
	}
	deepCache.Store(t, true) // guards recursion; refined below
	r := computeDeep(t)
	deepCache.Store(t, r)
	return r
}

func computeDeep(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return true
	case reflect.Array:
		return needsDeep(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.IsExported() && needsDeep(f.Type) {
				return true
			}
		}
	}
	return false
}

// copyValue sets dst (settable, zero) to a deep copy of src.
func copyValue(dst, src reflect.Value) {
	t := src.Type()
	if !needsDeep(t) {
		dst.Set(src)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(t.Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		n := src.Len()
		s := reflect.MakeSlice(t, n, n)
		if needsDeep(t.Elem()) {
			for i := 0; i < n; i++ {
				copyValue(s.Index(i), src.Index(i))
			}
		} else {
			reflect.Copy(s, src)
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(t, src.Len())
		deep := needsDeep(t.Elem())
		it := src.MapRange()
		for it.Next() {
			if !deep {
				m.SetMapIndex(it.Key(), it.Value())
				continue
			}
			v := reflect.New(t.Elem()).Elem()
			copyValue(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := src.Elem()
		v := reflect.New(e.Type()).Elem()
		copyValue(v, e)
		dst.Set(v)
	case reflect.Array:
		for i := 0; i < src.Len(); i++ {
			copyValue(dst.Index(i), src.Index(i))
		}
	case reflect.Struct:
		dst.Set(src) // unexported fields by value
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || !needsDeep(f.Type) {
				continue
			}
			fd := dst.Field(i)
			fd.SetZero()
			copyValue(fd, src.Field(i))
		}
	}
}

// Into sets dst (settable) to a deep copy of src, which must have dst's type.
func Into(dst, src reflect.Value) {
	dst.SetZero()
	copyValue(dst, src)
}
