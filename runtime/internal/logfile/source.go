package logfile

import (
	"context"
	"io"
	"sync"
)

// Memory is a log held in memory: a Source that grows as entries are
// written to it, until Close. It is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	data   []byte
	wake   chan struct{} // closed and replaced on every write
	closed bool
}

// NewMemory returns an empty log.
func NewMemory() *Memory { return &Memory{wake: make(chan struct{})} }

// Write appends p; after Close it fails with io.ErrClosedPipe.
func (m *Memory) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, io.ErrClosedPipe
	}
	m.data = append(m.data, p...)
	close(m.wake)
	m.wake = make(chan struct{})
	return len(p), nil
}

// Close marks the log final: readers waiting for more end.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.wake)
	}
	return nil
}

// ReadAt implements io.ReaderAt.
func (m *Memory) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Size returns the log's length.
func (m *Memory) Size() (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.data)), nil
}

// Wait waits until the log is longer than size or closed.
func (m *Memory) Wait(ctx context.Context, size int64) (bool, error) {
	for {
		m.mu.Lock()
		grown, closed, wake := int64(len(m.data)) > size, m.closed, m.wake
		m.mu.Unlock()
		if grown || closed {
			return closed, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}
