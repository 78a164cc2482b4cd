package informer

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/setpoint-dev/setpoint/store"
)

// ErrUnknownIndex is returned by ByIndex and IndexValues for an index name
// that was never added.
var ErrUnknownIndex = errors.New("informer: unknown index")

// ErrIndexExists is returned by AddIndexer for a name already in use.
var ErrIndexExists = errors.New("informer: index already exists")

// IndexFunc returns the values an object is indexed under (for example its
// node name, or the value of one label). It must be a pure function of obj
// and must not modify it. An object may have no values, or several.
type IndexFunc[T store.Object] func(obj T) []string

// NamespaceIndex is the conventional name of the index by namespace.
const NamespaceIndex = "namespace"

// IndexByNamespace indexes objects by their namespace.
func IndexByNamespace[T store.Object](obj T) []string {
	return []string{obj.GetObjectMeta().Namespace}
}

// IndexByLabel returns an index function that indexes objects by the value of
// label key; objects without the label are not indexed.
func IndexByLabel[T store.Object](key string) IndexFunc[T] {
	return func(obj T) []string {
		v, ok := obj.GetObjectMeta().Labels[key]
		if !ok {
			return nil
		}
		return []string{v}
	}
}

// index maps each index value to the set of object keys having it. The key
// strings are the same string values as the cache's item keys, so an index
// entry costs one set slot per object and value.
type index[T store.Object] struct {
	fn     IndexFunc[T]
	values map[string]map[string]struct{}
}

func (ix *index[T]) add(key string, obj T) {
	for _, v := range ix.fn(obj) {
		set := ix.values[v]
		if set == nil {
			set = make(map[string]struct{}, 1)
			ix.values[v] = set
		}
		set[key] = struct{}{}
	}
}

func (ix *index[T]) remove(key string, obj T) {
	for _, v := range ix.fn(obj) {
		set := ix.values[v]
		delete(set, key)
		if len(set) == 0 {
			delete(ix.values, v)
		}
	}
}

// Cache is an informer's thread-safe, indexed store of objects, keyed by
// store.KeyOf ("namespace/name", or "name" for cluster-scoped objects).
//
// Objects returned by a Cache are shared with every other reader and with
// the informer's handlers: they are read-only. Never modify one; to change an
// object, take a private copy with store.Clone (or the object's own DeepCopy)
// and write that to the store.
//
// Only the informer writes to its Cache; its exported methods only read.
type Cache[T store.Object] struct {
	mu      sync.RWMutex
	items   map[string]T
	indices map[string]*index[T]
	rev     atomic.Int64 // the store revision the contents reflect
}

func newCache[T store.Object]() *Cache[T] {
	return &Cache[T]{items: map[string]T{}, indices: map[string]*index[T]{}}
}

// Get returns the object with the given namespace and name.
func (c *Cache[T]) Get(namespace, name string) (T, bool) {
	if namespace == "" {
		return c.GetByKey(name)
	}
	return c.GetByKey(namespace + "/" + name)
}

// GetByKey returns the object with the given key (see store.KeyOf).
func (c *Cache[T]) GetByKey(key string) (T, bool) {
	c.mu.RLock()
	obj, ok := c.items[key]
	c.mu.RUnlock()
	return obj, ok
}

// List returns every cached object, in no particular order.
func (c *Cache[T]) List() []T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]T, 0, len(c.items))
	for _, obj := range c.items {
		out = append(out, obj)
	}
	return out
}

// Keys returns the keys of every cached object, sorted.
func (c *Cache[T]) Keys() []string {
	c.mu.RLock()
	out := make([]string, 0, len(c.items))
	for k := range c.items {
		out = append(out, k)
	}
	c.mu.RUnlock()
	sort.Strings(out)
	return out
}

// Len returns the number of cached objects.
func (c *Cache[T]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}

// Revision returns the store revision the cache reflects: the revision of
// the last list, event or bookmark applied. 0 before the first list.
func (c *Cache[T]) Revision() int64 { return c.rev.Load() }

// ByIndex returns the objects indexed under value in the named index, in no
// particular order. It fails with ErrUnknownIndex for an index never added.
func (c *Cache[T]) ByIndex(indexName, value string) ([]T, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ix, ok := c.indices[indexName]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownIndex, indexName)
	}
	set := ix.values[value]
	out := make([]T, 0, len(set))
	for k := range set {
		out = append(out, c.items[k])
	}
	return out, nil
}

// IndexValues returns the values present in the named index, sorted.
func (c *Cache[T]) IndexValues(indexName string) ([]string, error) {
	c.mu.RLock()
	ix, ok := c.indices[indexName]
	if !ok {
		c.mu.RUnlock()
		return nil, fmt.Errorf("%w %q", ErrUnknownIndex, indexName)
	}
	out := make([]string, 0, len(ix.values))
	for v := range ix.values {
		out = append(out, v)
	}
	c.mu.RUnlock()
	sort.Strings(out)
	return out, nil
}

// addIndex adds an index and fills it from the current contents.
func (c *Cache[T]) addIndex(name string, fn IndexFunc[T]) error {
	if name == "" || fn == nil {
		return fmt.Errorf("%w: index needs a name and a function", ErrInvalidConfig)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.indices[name]; ok {
		return fmt.Errorf("%w: %q", ErrIndexExists, name)
	}
	ix := &index[T]{fn: fn, values: map[string]map[string]struct{}{}}
	for k, obj := range c.items {
		ix.add(k, obj)
	}
	c.indices[name] = ix
	return nil
}

// upsert stores obj under key and returns the previous object, if any.
func (c *Cache[T]) upsert(key string, obj T) (old T, existed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, existed = c.items[key]
	if existed {
		for _, ix := range c.indices {
			ix.remove(key, old)
		}
	}
	c.items[key] = obj
	for _, ix := range c.indices {
		ix.add(key, obj)
	}
	return old, existed
}

// remove deletes key and returns the object it held.
func (c *Cache[T]) remove(key string) (old T, existed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, existed = c.items[key]
	if !existed {
		return old, false
	}
	for _, ix := range c.indices {
		ix.remove(key, old)
	}
	delete(c.items, key)
	return old, true
}

// replace swaps in items (owned by the cache from now on) at revision rev,
// rebuilding every index, in one step: readers see the old contents or the
// new, never a mix.
func (c *Cache[T]) replace(items map[string]T, rev int64) {
	indices := make(map[string]*index[T], len(c.indices))
	c.mu.RLock()
	for name, ix := range c.indices {
		indices[name] = &index[T]{fn: ix.fn, values: make(map[string]map[string]struct{}, len(ix.values))}
	}
	c.mu.RUnlock()
	// Indices can only be added by the informer under its dispatch lock,
	// which the caller holds, so the set of indices cannot change here.
	for k, obj := range items {
		for _, ix := range indices {
			ix.add(k, obj)
		}
	}
	c.mu.Lock()
	c.items, c.indices = items, indices
	c.rev.Store(rev)
	c.mu.Unlock()
}

// itemsLocked returns the current items map for read-only use by a caller
// that holds the informer's dispatch lock (so no writer runs) and does not
// keep it past that.
func (c *Cache[T]) itemsLocked() map[string]T { return c.items }
