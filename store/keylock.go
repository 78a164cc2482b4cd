package store

import (
	"context"
	"sync"
)

// keyLocks serializes a store's own GuaranteedUpdates of one key, so that
// goroutines of one process take turns instead of failing each other's
// compare-and-swap transactions. It is only an optimization: correctness
// still rests on the backend's compare-and-swap, which also settles races
// with other processes. A turn hands the state it wrote to the next one as
// a hint, saving the next read; a stale hint only costs a conflict.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	turn    chan struct{} // holds a token while the key is free
	waiters int           // goroutines holding or waiting for the turn; guarded by keyLocks.mu
	hint    *KV           // state written by the last turn; guarded by the turn
}

// acquire waits for key's turn. It returns a release function, or ctx's
// error.
func (l *keyLocks) acquire(ctx context.Context, key string) (*keyLock, func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*keyLock)
	}
	k := l.locks[key]
	if k == nil {
		k = &keyLock{turn: make(chan struct{}, 1)}
		k.turn <- struct{}{}
		l.locks[key] = k
	}
	k.waiters++
	l.mu.Unlock()
	leave := func() {
		l.mu.Lock()
		if k.waiters--; k.waiters == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
	select {
	case <-k.turn:
		return k, func() { k.turn <- struct{}{}; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, nil, ctx.Err()
	}
}
