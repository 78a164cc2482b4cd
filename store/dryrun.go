package store

import (
	"context"
	"errors"
	"fmt"
)

type dryRunKey struct{}

// WithDryRun returns a context whose typed-store writes are dry runs, as
// Kubernetes' dryRun=All: Create, Update, GuaranteedUpdate and Delete do
// every check a real write does (validation, preconditions, existence,
// resourceVersion compare-and-swap, fences) and return the object as it
// would be stored, but write nothing. A dry-run Create's result has no
// resourceVersion; the others carry the current one. Implementations of
// Interface other than Store must honour it too (the rest Client sends
// dryRun=All).
func WithDryRun(ctx context.Context) context.Context {
	return context.WithValue(ctx, dryRunKey{}, true)
}

// DryRunFrom reports whether ctx asks for dry-run writes (WithDryRun).
func DryRunFrom(ctx context.Context) bool {
	d, _ := ctx.Value(dryRunKey{}).(bool)
	return d
}

// checkFences reads every fence of ctx and fails with ErrFenced unless each
// key exists with its create revision: the check a dry run makes instead of
// the write's transaction. The error names the fence key only.
func (s *Store[T]) checkFences(ctx context.Context, key string) error {
	for _, f := range FencesFrom(ctx) {
		kv, err := s.b.Get(ctx, f.Key)
		if errors.Is(err, ErrNotFound) || err == nil && kv.CreateRevision != f.CreateRevision {
			return fmt.Errorf("%w: %s: fence key %s does not hold", ErrFenced, key, f.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
