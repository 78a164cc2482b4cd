package framework

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned by CycleState.Read for a key nobody wrote.
var ErrNotFound = errors.New("not found")

// StateKey names a piece of CycleState; plugins use keys derived from
// their names.
type StateKey string

// StateData is what plugins keep in a CycleState. Clone returns a copy
// that later changes to the original do not affect (preemption clones the
// state to simulate removing pods).
type StateData interface {
	Clone() StateData
}

// CycleState is one scheduling cycle's scratch space, shared by the
// plugins that schedule one pod. Write it only at the sequential extension
// points (PreFilter, PreScore, Reserve and the PreFilter extensions' AddPod
// and RemovePod, which run on a private clone); Filter and Score run in
// parallel and must only read it.
type CycleState struct {
	m map[StateKey]StateData
	// SkipFilter and SkipScore hold the plugins whose PreFilter or
	// PreScore returned Skip in this cycle.
	skipFilter map[string]bool
	skipScore  map[string]bool
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	return &CycleState{m: make(map[StateKey]StateData, 8)}
}

// Read returns the data under key, or an error wrapping ErrNotFound.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	if v, ok := c.m[key]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("cycle state %q: %w", key, ErrNotFound)
}

// Write stores data under key.
func (c *CycleState) Write(key StateKey, data StateData) { c.m[key] = data }

// Delete removes key.
func (c *CycleState) Delete(key StateKey) { delete(c.m, key) }

// Clone returns a copy with every piece of data cloned.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	out := &CycleState{m: make(map[StateKey]StateData, len(c.m)), skipFilter: c.skipFilter, skipScore: c.skipScore}
	for k, v := range c.m {
		if v != nil {
			out.m[k] = v.Clone()
		}
	}
	return out
}

// ReadAs reads key and asserts its type, with errors naming the key.
func ReadAs[T StateData](c *CycleState, key StateKey) (T, error) {
	var zero T
	v, err := c.Read(key)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("cycle state %q holds %T, not %T", key, v, zero)
	}
	return t, nil
}
