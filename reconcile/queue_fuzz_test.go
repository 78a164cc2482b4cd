package reconcile_test

import (
	"testing"

	"github.com/setpoint-dev/setpoint/reconcile"
)

// queueModel is the simplest possible statement of the queue's semantics,
// for FuzzQueueModel to compare against.
type queueModel struct {
	seq   int
	state map[byte]*modelItem
}

type modelItem struct {
	dirty, processing, queued bool
	prio, seq                 int
}

func (m *queueModel) add(k byte, prio int) {
	it := m.state[k]
	if it == nil {
		it = &modelItem{}
		m.state[k] = it
	}
	switch {
	case it.queued:
		if prio > it.prio {
			m.seq++
			it.prio, it.seq = prio, m.seq
		}
	case it.processing:
		if !it.dirty || prio > it.prio {
			it.prio = prio
		}
		it.dirty = true
	default:
		m.seq++
		it.dirty, it.queued, it.prio, it.seq = true, true, prio, m.seq
	}
}

// get returns the queued key with the highest priority, oldest first.
func (m *queueModel) get() (byte, bool) {
	var best byte
	var b *modelItem
	for k, it := range m.state {
		if it.queued && (b == nil || it.prio > b.prio || (it.prio == b.prio && it.seq < b.seq)) {
			best, b = k, it
		}
	}
	if b == nil {
		return 0, false
	}
	b.queued, b.dirty, b.processing = false, false, true
	return best, true
}

func (m *queueModel) done(k byte) {
	it := m.state[k]
	if it == nil || !it.processing {
		return
	}
	it.processing = false
	if it.dirty {
		m.seq++
		it.queued, it.seq = true, m.seq
	} else {
		delete(m.state, k)
	}
}

func (m *queueModel) len() int {
	n := 0
	for _, it := range m.state {
		if it.queued {
			n++
		}
	}
	return n
}

// FuzzQueueModel runs a sequence of adds (at three priorities), Gets and
// Dones decoded from the input on one goroutine and checks every result,
// and Len after every step, against queueModel.
func FuzzQueueModel(f *testing.F) {
	f.Add([]byte{0x01, 0x02, 0x41, 0x80, 0x80, 0xc0, 0x01, 0x80})
	f.Add([]byte{0x03, 0x43, 0x23, 0x80, 0x03, 0x83, 0xc3, 0x80, 0x80})
	f.Add([]byte{0x21, 0x22, 0x23, 0x01, 0x42, 0x80, 0x80, 0x80, 0x80, 0xc1, 0xc2, 0xc3})
	f.Add([]byte{0x05, 0x80, 0x05, 0x45, 0x25, 0xc5, 0x80, 0xc5, 0x80})
	f.Fuzz(func(t *testing.T, ops []byte) {
		q := reconcile.NewQueue(reconcile.QueueConfig[byte]{})
		m := &queueModel{state: map[byte]*modelItem{}}
		for i, op := range ops {
			k := op & 0x1f
			switch op >> 5 {
			case 0: // Add
				q.Add(k)
				m.add(k, reconcile.PriorityNormal)
			case 1: // low priority
				q.AddWithPriority(k, reconcile.PriorityLow)
				m.add(k, reconcile.PriorityLow)
			case 2: // high priority
				q.AddWithPriority(k, reconcile.PriorityHigh)
				m.add(k, reconcile.PriorityHigh)
			case 4, 5: // Get
				got, ok := getNow(t, q)
				want, wok := m.get()
				if ok != wok || got != want {
					t.Fatalf("op %d: Get = %d, %v; model says %d, %v (ops %x)", i, got, ok, want, wok, ops)
				}
			default: // Done
				q.Done(k)
				m.done(k)
			}
			if q.Len() != m.len() {
				t.Fatalf("op %d: Len = %d, model says %d (ops %x)", i, q.Len(), m.len(), ops)
			}
		}
	})
}
