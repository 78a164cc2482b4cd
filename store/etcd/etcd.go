package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// ErrClosed is returned by calls after Close.
var ErrClosed = fmt.Errorf("etcd backend: %w", watch.ErrClosed)

// Backend is the etcd implementation of store.Backend. Each write is one
// etcd transaction holding the write's precondition and every fence as
// compares; when it fails, the transaction's else branch reads the key and
// the fence keys so that the error says which precondition failed, without
// a second round trip. Reads are linearizable (etcd's default).
type Backend struct {
	c           *clientv3.Client
	watchBuffer int64

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close; ends every watch
}

var (
	_ store.Backend    = (*Backend)(nil)
	_ store.SideWriter = (*Backend)(nil)
)

// DefaultWatchBufferBytes is the per-watch lag budget New uses unless
// WithWatchBufferBytes says otherwise.
const DefaultWatchBufferBytes = 32 << 20

// Option configures New.
type Option func(*Backend)

// WithWatchBufferBytes sets each watch's lag budget: the bytes (keys and
// values) of events a watch's consumer may leave untaken before the watch
// is cut off with watch.ErrTooSlow (default DefaultWatchBufferBytes; n <= 0
// means no bound). The etcd client buffers every event of a watch whose
// channel is not read, so without a bound one stalled consumer grows the
// process without limit.
func WithWatchBufferBytes(n int64) Option {
	return func(b *Backend) { b.watchBuffer = n }
}

// New returns a backend on client c. The backend does not own c: Close ends
// the backend's watches but leaves c open.
func New(c *clientv3.Client, opts ...Option) *Backend {
	b := &Backend{c: c, watchBuffer: DefaultWatchBufferBytes, done: make(chan struct{})}
	for _, opt := range opts {
		opt(b)
	}
	return b
}

// Client returns the etcd client the backend uses.
func (b *Backend) Client() *clientv3.Client { return b.c }

func (b *Backend) check() error {
	select {
	case <-b.done:
		return ErrClosed
	default:
		return nil
	}
}

// mapErr turns etcd errors into store sentinels where one applies.
func mapErr(err error, what string, rev int64) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("%s: revision %d has been compacted: %w", what, rev, store.ErrGone)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("%w: %s: revision %d is in the future", store.ErrInvalid, what, rev)
	case errors.Is(err, rpctypes.ErrNoSpace), errors.Is(err, rpctypes.ErrGRPCNoSpace):
		return fmt.Errorf("%s: %w: etcd's database has reached its size quota (%v); compact and defragment etcd and disarm its NOSPACE alarm", what, store.ErrNoSpace, err)
	case errors.Is(err, rpctypes.ErrRequestTooLarge):
		return fmt.Errorf("%s: %w: %v", what, store.ErrTooLarge, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func kvOf(kv *mvccpb.KeyValue) store.KV {
	return store.KV{Key: string(kv.Key), Value: kv.Value, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision}
}

// Get returns the current value of key.
func (b *Backend) Get(ctx context.Context, key string) (store.KV, error) {
	if err := b.check(); err != nil {
		return store.KV{}, err
	}
	resp, err := b.c.Get(ctx, key)
	if err != nil {
		return store.KV{}, mapErr(err, "etcd get "+key, 0)
	}
	if len(resp.Kvs) == 0 {
		return store.KV{}, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	return kvOf(resp.Kvs[0]), nil
}

// Range returns keys under prefix, in key order, at one revision.
func (b *Backend) Range(ctx context.Context, prefix string, opts store.RangeOptions) (store.RangeResult, error) {
	if err := b.check(); err != nil {
		return store.RangeResult{}, err
	}
	if opts.StartKey != "" && !strings.HasPrefix(opts.StartKey, prefix) {
		return store.RangeResult{}, fmt.Errorf("%w: range %q: start key %q is outside the prefix", store.ErrInvalid, prefix, opts.StartKey)
	}
	if opts.Limit < 0 || opts.Revision < 0 {
		return store.RangeResult{}, fmt.Errorf("%w: range %q: negative limit or revision", store.ErrInvalid, prefix)
	}
	start := prefix
	if opts.StartKey != "" {
		start = opts.StartKey
	}
	ops := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix))}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(opts.Limit))
	}
	if opts.Revision > 0 {
		ops = append(ops, clientv3.WithRev(opts.Revision))
	}
	if prefix == "" {
		ops[0] = clientv3.WithFromKey()
		if start == "" {
			start = "\x00"
		}
	}
	resp, err := b.c.Get(ctx, start, ops...)
	if err != nil {
		return store.RangeResult{}, mapErr(err, fmt.Sprintf("etcd range %q", prefix), opts.Revision)
	}
	res := store.RangeResult{Revision: resp.Header.Revision, More: resp.More, KVs: make([]store.KV, len(resp.Kvs))}
	if opts.Revision > 0 {
		res.Revision = opts.Revision
	}
	for i, kv := range resp.Kvs {
		res.KVs[i] = kvOf(kv)
	}
	return res, nil
}

// fenceCmps returns the compares for fences and the else-branch reads that
// tell which one failed.
func fenceCmps(fences []store.Fence) ([]clientv3.Cmp, []clientv3.Op) {
	cmps := make([]clientv3.Cmp, 0, len(fences)+1)
	gets := make([]clientv3.Op, 0, len(fences)+1)
	for _, f := range fences {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.CreateRevision))
		gets = append(gets, clientv3.OpGet(f.Key, clientv3.WithKeysOnly()))
	}
	return cmps, gets
}

// fenceFailure inspects the else-branch reads of the fences (the first
// len(fences) responses) and returns ErrFenced if any fence failed.
func fenceFailure(key string, fences []store.Fence, resp *clientv3.TxnResponse) error {
	for i, f := range fences {
		r := resp.Responses[i].GetResponseRange()
		if r == nil || len(r.Kvs) == 0 {
			return fmt.Errorf("%w: %s: fence key %s is gone", store.ErrFenced, key, f.Key)
		}
		if got := r.Kvs[0].CreateRevision; got != f.CreateRevision {
			return fmt.Errorf("%w: %s: fence key %s has create revision %d, want %d", store.ErrFenced, key, f.Key, got, f.CreateRevision)
		}
	}
	return nil
}

// current returns the else-branch read of the key itself (the last
// response), or nil if the key does not exist.
func current(resp *clientv3.TxnResponse) *mvccpb.KeyValue {
	r := resp.Responses[len(resp.Responses)-1].GetResponseRange()
	if r == nil || len(r.Kvs) == 0 {
		return nil
	}
	return r.Kvs[0]
}

// Create writes key only if it does not exist and all fences hold.
func (b *Backend) Create(ctx context.Context, key string, value []byte, fences ...store.Fence) (int64, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	put := clientv3.OpPut(key, string(value))
	absent := clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	if len(fences) == 0 {
		// The common case: the compare can only fail because the key
		// exists, so the transaction needs no else branch to say why.
		resp, err := b.c.Txn(ctx).If(absent).Then(put).Commit()
		if err != nil {
			return 0, mapErr(err, "etcd create "+key, 0)
		}
		if !resp.Succeeded {
			return 0, fmt.Errorf("%w: %s", store.ErrAlreadyExists, key)
		}
		return resp.Header.Revision, nil
	}
	cmps, elseOps := fenceCmps(fences)
	resp, err := b.c.Txn(ctx).If(append(cmps, absent)...).Then(put).Else(elseOps...).Commit()
	if err != nil {
		return 0, mapErr(err, "etcd create "+key, 0)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	if err := fenceFailure(key, fences, resp); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%w: %s", store.ErrAlreadyExists, key)
}

// CreateWithSideWrites writes key only if it does not exist, all fences
// hold and every side write's key still has its ModRevision, and then the
// side writes too: one etcd transaction, one revision (store.SideWriter).
func (b *Backend) CreateWithSideWrites(ctx context.Context, key string, value []byte, side []store.SideWrite, fences ...store.Fence) (int64, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	cmps, elseOps := fenceCmps(fences)
	puts := []clientv3.Op{clientv3.OpPut(key, string(value))}
	for _, w := range side {
		if w.Key == key {
			return 0, fmt.Errorf("%w: side write to the created key %s", store.ErrInvalid, key)
		}
		switch {
		case w.CheckOnly && w.Prefix:
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(w.Key), "<", w.ModRevision+1).WithRange(clientv3.GetPrefixRangeEnd(w.Key)))
			elseOps = append(elseOps, clientv3.OpGet(w.Key, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend), clientv3.WithLimit(1)))
		case w.CheckOnly:
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(w.Key), "=", w.ModRevision))
			elseOps = append(elseOps, clientv3.OpGet(w.Key))
		default:
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(w.Key), "=", w.ModRevision))
			elseOps = append(elseOps, clientv3.OpGet(w.Key))
			puts = append(puts, clientv3.OpPut(w.Key, string(w.Value)))
		}
	}
	cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
	elseOps = append(elseOps, clientv3.OpGet(key, clientv3.WithKeysOnly()))
	resp, err := b.c.Txn(ctx).If(cmps...).Then(puts...).Else(elseOps...).Commit()
	if err != nil {
		return 0, mapErr(err, "etcd create "+key, 0)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	if err := fenceFailure(key, fences, resp); err != nil {
		return 0, err
	}
	for i, w := range side {
		r := resp.Responses[len(fences)+i].GetResponseRange()
		have := int64(0)
		var latest *store.KV
		if r != nil && len(r.Kvs) > 0 {
			have = r.Kvs[0].ModRevision
			kv := kvOf(r.Kvs[0])
			latest = &kv
		}
		if failed := have != w.ModRevision; failed && !w.Prefix || w.Prefix && have > w.ModRevision {
			return 0, &store.ConflictError{Key: w.Key, Expected: w.ModRevision, Current: have, Latest: latest}
		}
	}
	return 0, fmt.Errorf("%w: %s", store.ErrAlreadyExists, key)
}

// Update writes key only if its ModRevision is rev and all fences hold.
func (b *Backend) Update(ctx context.Context, key string, value []byte, rev int64, fences ...store.Fence) (int64, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	cmps, elseOps := fenceCmps(fences)
	cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", rev))
	elseOps = append(elseOps, clientv3.OpGet(key))
	resp, err := b.c.Txn(ctx).If(cmps...).Then(clientv3.OpPut(key, string(value))).Else(elseOps...).Commit()
	if err != nil {
		return 0, mapErr(err, "etcd update "+key, 0)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	if err := fenceFailure(key, fences, resp); err != nil {
		return 0, err
	}
	cur := current(resp)
	if cur == nil {
		return 0, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	latest := kvOf(cur)
	return 0, &store.ConflictError{Key: key, Expected: rev, Current: cur.ModRevision, Latest: &latest}
}

// Delete removes key if its ModRevision is rev (0: any) and all fences hold.
// It returns the key's last state and the revision of the deletion.
func (b *Backend) Delete(ctx context.Context, key string, rev int64, fences ...store.Fence) (store.KV, int64, error) {
	if err := b.check(); err != nil {
		return store.KV{}, 0, err
	}
	cmps, elseOps := fenceCmps(fences)
	if rev != 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", rev))
	} else {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(key), ">", 0))
	}
	elseOps = append(elseOps, clientv3.OpGet(key))
	resp, err := b.c.Txn(ctx).If(cmps...).Then(clientv3.OpDelete(key, clientv3.WithPrevKV())).Else(elseOps...).Commit()
	if err != nil {
		return store.KV{}, 0, mapErr(err, "etcd delete "+key, 0)
	}
	if resp.Succeeded {
		d := resp.Responses[0].GetResponseDeleteRange()
		if d == nil || len(d.PrevKvs) == 0 {
			// Cannot happen: the compare saw the key in the same transaction.
			return store.KV{}, 0, fmt.Errorf("%w: %s", store.ErrNotFound, key)
		}
		return kvOf(d.PrevKvs[0]), resp.Header.Revision, nil
	}
	if err := fenceFailure(key, fences, resp); err != nil {
		return store.KV{}, 0, err
	}
	cur := current(resp)
	if cur == nil {
		return store.KV{}, 0, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	latest := kvOf(cur)
	return store.KV{}, 0, &store.ConflictError{Key: key, Expected: rev, Current: cur.ModRevision, Latest: &latest}
}

// Revision returns the current revision of the etcd cluster (a
// linearizable read).
func (b *Backend) Revision(ctx context.Context) (int64, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	resp, err := b.c.Get(ctx, "\x00", clientv3.WithCountOnly())
	if err != nil {
		return 0, mapErr(err, "etcd revision", 0)
	}
	return resp.Header.Revision, nil
}

// Compact discards history before rev (etcd physical compaction). A
// revision already compacted is not an error.
func (b *Backend) Compact(ctx context.Context, rev int64) error {
	if err := b.check(); err != nil {
		return err
	}
	_, err := b.c.Compact(ctx, rev, clientv3.WithCompactPhysical())
	if errors.Is(err, rpctypes.ErrCompacted) {
		return nil
	}
	return mapErr(err, "etcd compact", rev)
}

// Close ends the backend's watches. The client stays open.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
	return nil
}
