package controllerutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// Event types, as in Kubernetes.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// EventWriter is what a Recorder writes events with: the typed events
// client.
type EventWriter interface {
	Create(ctx context.Context, ev *api.Event) (*api.Event, error)
	GuaranteedUpdate(ctx context.Context, namespace, name string, fn func(*api.Event) (*api.Event, error)) (*api.Event, error)
}

// RecorderConfig configures a Recorder.
type RecorderConfig struct {
	// Client writes the events. Required.
	Client EventWriter
	// Component is the reporting component (source.component and
	// reportingComponent), for example "replicaset-controller". Required.
	Component string
	// Instance is the reporting instance (reportingInstance), for example
	// the host name. Optional.
	Instance string
	// Buffer is how many events may wait to be written; more are dropped
	// (and counted), so a slow apiserver never blocks a controller.
	// Default 1000.
	Buffer int
	// Clock times the events and their aggregation window. Default real.
	Clock clockwork.Clock
	// Logger receives write failures. Default discard.
	Logger *slog.Logger
}

// aggregationWindow is how long a repeated event (same object, type,
// reason and message) updates the count of the first instead of creating a
// new one; Kubernetes' event correlator uses ten minutes.
const aggregationWindow = 10 * time.Minute

// maxAggregated bounds the aggregation memory.
const maxAggregated = 4096

// Recorder reports Kubernetes Events (core/v1) about objects, the way
// Kubernetes' event recorder does: asynchronously (Event never blocks;
// events beyond the buffer are dropped), named "<object>.<hex nanoseconds>",
// with source and reporting component, and a repeat of the same event
// within ten minutes raising the count and lastTimestamp of the first;
// past the first 25 events of one type about one object it keeps one per
// five minutes, as Kubernetes' spam filter does (Filtered counts the
// rest). Each event is written with the values of the context it was recorded
// with (not its deadline), so an event recorded by a leader carries the
// leader's fence and a deposed leader's events are refused. Run writes the
// events; it is safe for concurrent use.
type Recorder struct {
	cfg     RecorderConfig
	queue   chan pending
	mu      sync.Mutex
	seen    map[string]seenEvent
	spam    map[string]*spamBucket
	dropped int
	spammed int
}

// The spam filter Kubernetes' event correlator applies: per reporting
// source, involved object and event type, a token bucket of spamBurst
// events refilled at one per spamRefill; events beyond it are dropped, so
// a controller creating a thousand pods of one owner reports the first
// few and spends its client budget on the pods.
const (
	spamBurst  = 25
	spamRefill = 5 * time.Minute
	maxSpam    = 4096
)

// spamBucket is one key's token bucket.
type spamBucket struct {
	tokens float64
	at     time.Time
}

// take reports whether a token is left at now, and takes it.
func (b *spamBucket) take(now time.Time) bool {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(spamBurst, b.tokens+float64(d)/float64(spamRefill))
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

type pending struct {
	ctx context.Context
	ev  *api.Event
}

type seenEvent struct {
	namespace, name string
	last            time.Time
}

// NewRecorder validates cfg and returns a recorder; call Run to write.
func NewRecorder(cfg RecorderConfig) (*Recorder, error) {
	if cfg.Client == nil {
		return nil, errors.New("events: Client is required")
	}
	if cfg.Component == "" {
		return nil, errors.New("events: Component is required")
	}
	if cfg.Buffer < 0 {
		return nil, fmt.Errorf("events: Buffer %d is negative", cfg.Buffer)
	}
	if cfg.Buffer == 0 {
		cfg.Buffer = 1000
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{cfg: cfg, queue: make(chan pending, cfg.Buffer), seen: map[string]seenEvent{}, spam: map[string]*spamBucket{}}, nil
}

// Ref returns the object reference an event about obj carries.
func Ref(obj store.Object, res store.Resource) api.ObjectReference {
	m := obj.GetObjectMeta()
	return api.ObjectReference{Kind: res.Kind, APIVersion: res.APIVersion, Namespace: m.Namespace, Name: m.Name,
		UID: m.UID, ResourceVersion: m.ResourceVersion}
}

// Eventf records an event of type (EventNormal or EventWarning) about obj
// of resource res.
func (r *Recorder) Eventf(ctx context.Context, obj store.Object, res store.Resource, eventType, reason, format string, args ...any) {
	if r == nil {
		return
	}
	ref := Ref(obj, res)
	now := r.cfg.Clock.Now()
	ns := ref.Namespace
	if ns == "" {
		ns = "default"
	}
	ev := &api.Event{
		InvolvedObject: ref, Reason: reason, Message: fmt.Sprintf(format, args...), Type: eventType,
		Source:              api.EventSource{Component: r.cfg.Component, Host: r.cfg.Instance},
		FirstTimestamp:      store.NewTime(now),
		LastTimestamp:       store.NewTime(now),
		Count:               1,
		ReportingController: r.cfg.Component,
		ReportingInstance:   r.cfg.Instance,
	}
	ev.Namespace = ns
	ev.Name = ref.Name + "." + strconv.FormatInt(now.UnixNano(), 16)
	if !r.allow(ref, eventType, now) {
		return
	}
	select {
	case r.queue <- pending{ctx: context.WithoutCancel(ctx), ev: ev}:
	default:
		r.mu.Lock()
		r.dropped++
		r.mu.Unlock()
	}
}

// allow applies the spam filter to an event about ref of eventType.
func (r *Recorder) allow(ref api.ObjectReference, eventType string, now time.Time) bool {
	key := strings.Join([]string{ref.Kind, ref.APIVersion, ref.Namespace, ref.Name, ref.UID, eventType}, "\x00")
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.spam[key]
	if !ok {
		if len(r.spam) >= maxSpam {
			clear(r.spam)
		}
		b = &spamBucket{tokens: spamBurst, at: now}
		r.spam[key] = b
	}
	if !b.take(now) {
		r.spammed++
		return false
	}
	return true
}

// Filtered returns how many events the spam filter dropped: past the
// first 25 of one type about one object, one more per five minutes.
func (r *Recorder) Filtered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spammed
}

// Dropped returns how many events were dropped because the buffer was
// full.
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Run writes recorded events until ctx ends; events still buffered then
// are dropped. It returns nil.
func (r *Recorder) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-r.queue:
			r.write(p)
		}
	}
}

func (r *Recorder) write(p pending) {
	ev := p.ev
	key := ev.InvolvedObject.UID + "\x00" + ev.InvolvedObject.Namespace + "\x00" + ev.InvolvedObject.Name + "\x00" + ev.Type + "\x00" + ev.Reason + "\x00" + ev.Message
	now := ev.LastTimestamp.Time
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	r.mu.Lock()
	prev, ok := r.seen[key]
	r.mu.Unlock()
	if ok && now.Sub(prev.last) < aggregationWindow {
		_, err := r.cfg.Client.GuaranteedUpdate(ctx, prev.namespace, prev.name, func(cur *api.Event) (*api.Event, error) {
			cur.Count++
			cur.LastTimestamp = ev.LastTimestamp
			return cur, nil
		})
		if err == nil {
			r.remember(key, prev.namespace, prev.name, now)
			return
		}
		if !errors.Is(err, store.ErrNotFound) {
			r.cfg.Logger.Warn("event not written", "object", ev.InvolvedObject.Namespace+"/"+ev.InvolvedObject.Name, "reason", ev.Reason, "err", err)
			return
		}
	}
	if _, err := r.cfg.Client.Create(ctx, ev); err != nil {
		r.cfg.Logger.Warn("event not written", "object", ev.InvolvedObject.Namespace+"/"+ev.InvolvedObject.Name, "reason", ev.Reason, "err", err)
		return
	}
	r.remember(key, ev.Namespace, ev.Name, now)
}

func (r *Recorder) remember(key, ns, name string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) >= maxAggregated {
		for k, v := range r.seen {
			if at.Sub(v.last) >= aggregationWindow {
				delete(r.seen, k)
			}
		}
		if len(r.seen) >= maxAggregated {
			clear(r.seen)
		}
	}
	r.seen[key] = seenEvent{namespace: ns, name: name, last: at}
}
