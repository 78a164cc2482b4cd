package store

// TEMPORARY stub on the election branch with exactly the shapes from the
// store brief that election needs to compile; deleted when the store lands.

import "context"

// Resource describes one kind of stored object.
type Resource struct {
	Name       string
	APIVersion string
	Kind       string
	Namespaced bool
}

type fenceKey struct{}

// WithFence returns a context carrying fences.
func WithFence(ctx context.Context, f ...Fence) context.Context {
	prev := FencesFrom(ctx)
	all := append(append([]Fence(nil), prev...), f...)
	return context.WithValue(ctx, fenceKey{}, all)
}

// FencesFrom returns the fences in ctx.
func FencesFrom(ctx context.Context) []Fence {
	f, _ := ctx.Value(fenceKey{}).([]Fence)
	return f
}
