// Package lanes holds the ready keys of a queue: one FIFO ring per priority,
// served highest priority first.
package lanes

// Entry is one queued key. Seq lets the owner recognise entries it has since
// superseded (for example by re-queueing the key at a higher priority).
type Entry[K any] struct {
	Key K
	Seq uint64
}

// Lanes is a set of FIFO lanes. The zero value is empty and ready to use. It is
// not safe for concurrent use.
type Lanes[K any] struct {
	lanes []lane[K] // sorted by priority, highest first
	n     int
}

type lane[K any] struct {
	prio int
	buf  []Entry[K] // ring buffer; len(buf) is a power of two or zero
	head int
	n    int
}

// Len returns the number of entries in all lanes.
func (l *Lanes[K]) Len() int { return l.n }

// Push appends e to the lane for prio.
func (l *Lanes[K]) Push(prio int, e Entry[K]) {
	i := l.find(prio)
	ln := &l.lanes[i]
	if ln.n == len(ln.buf) {
		ln.grow()
	}
	ln.buf[(ln.head+ln.n)&(len(ln.buf)-1)] = e
	ln.n++
	l.n++
}

// Pop removes and returns the oldest entry of the highest non-empty lane.
func (l *Lanes[K]) Pop() (Entry[K], bool) {
	if l.n == 0 {
		return Entry[K]{}, false
	}
	for i := range l.lanes {
		ln := &l.lanes[i]
		if ln.n == 0 {
			continue
		}
		e := ln.buf[ln.head]
		ln.buf[ln.head] = Entry[K]{}
		ln.head = (ln.head + 1) & (len(ln.buf) - 1)
		ln.n--
		l.n--
		if ln.n == 0 && len(ln.buf) > 1024 {
			ln.buf, ln.head = nil, 0 // give back memory after a burst
		}
		return e, true
	}
	return Entry[K]{}, false
}

func (l *Lanes[K]) find(prio int) int {
	for i := range l.lanes {
		switch p := l.lanes[i].prio; {
		case p == prio:
			return i
		case p < prio:
			l.lanes = append(l.lanes, lane[K]{})
			copy(l.lanes[i+1:], l.lanes[i:])
			l.lanes[i] = lane[K]{prio: prio}
			return i
		}
	}
	l.lanes = append(l.lanes, lane[K]{prio: prio})
	return len(l.lanes) - 1
}

func (ln *lane[K]) grow() {
	size := max(16, 2*len(ln.buf))
	buf := make([]Entry[K], size)
	for i := 0; i < ln.n; i++ {
		buf[i] = ln.buf[(ln.head+i)&(len(ln.buf)-1)]
	}
	ln.buf, ln.head = buf, 0
}
