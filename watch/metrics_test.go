package watch

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestBroadcasterMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	l := newFakeLog()
	b, _, _ := startBroadcaster(t, l, 0, BroadcasterConfig{Name: "pods", Registerer: reg, Window: 100, SubscriberBuffer: 5})

	if _, err := NewBroadcaster(l.source, 0, BroadcasterConfig{Name: "pods", Registerer: reg}); err == nil || !strings.Contains(err.Error(), "Name") {
		t.Fatalf("a second broadcaster with the same name registered: %v", err)
	}
	if _, err := NewBroadcaster(l.source, 0, BroadcasterConfig{Name: "nodes", Registerer: reg}); err != nil {
		t.Fatalf("a broadcaster with another name: %v", err)
	}

	slow, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(b.metrics.subscribers); got != 1 {
		t.Fatalf("subscribers = %v, want 1", got)
	}
	// It is cut off once it has taken nothing while more than 5 events
	// arrived after its channel filled.
	added := 0
	waitFor(t, "the slow subscriber to be cut off", func() bool {
		l.add(10)
		added += 10
		return b.Subscribers() == 0
	})
	if _, err := drain(t, slow); !errors.Is(err, ErrTooSlow) {
		t.Fatalf("slow subscriber ended with %v", err)
	}
	l.breakStreams(errBroken)
	waitFor(t, "a reopen", func() bool { return testutil.ToFloat64(b.metrics.reopens) >= 1 })
	more := l.add(1)
	waitFor(t, "the broadcaster to catch up", func() bool { return b.Revision() == more[0].Revision })

	for name, want := range map[string]float64{
		"events":      float64(added + 1),
		"revision":    float64(more[0].Revision),
		"subscribers": 0,
		"too slow":    1,
	} {
		c := map[string]prometheus.Collector{"events": b.metrics.events, "revision": b.metrics.revision, "subscribers": b.metrics.subscribers, "too slow": b.metrics.tooSlow}[name]
		if got := testutil.ToFloat64(c); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	n, err := testutil.GatherAndCount(reg, "setpoint_watch_broadcaster_events_total")
	if err != nil || n != 2 {
		t.Fatalf("gathered %d events_total series (%v), want 2 (pods and nodes)", n, err)
	}
}
