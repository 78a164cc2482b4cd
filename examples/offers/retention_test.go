package offers_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/store"
)

// TestControllerDeletesEndedOffers: an ended offer stays readable for
// OfferRetention past its expiry time, then the leader deletes it, so
// ended offers do not pile up; pending offers are left alone.
func TestControllerDeletesEndedOffers(t *testing.T) {
	_, cs, offerClient, _ := startOffers(t, "4", "8Gi", map[string][2]string{"c": {"1", "1Gi"}}, taskPod("c1", "c", "1", "1Gi"))
	ctx := context.Background()
	fc := clockwork.NewFakeClock()
	c, err := offers.NewController(offers.ControllerConfig{Client: cs, Identity: "test",
		Allocator: offers.Config{OfferTimeout: 10 * time.Second, HoardCycles: 1 << 20}, Clock: fc,
		OfferRetention: time.Minute,
		// The lease outlives the clock's steps.
		LeaseDuration: time.Hour, RenewDeadline: 30 * time.Minute, RetryPeriod: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "offers controller", c.Run)
	round := 0
	// advance moves the clock and starts a round at its new now (any
	// change of a watched object does).
	advance := func(d time.Duration) {
		fc.Advance(d)
		round++
		if _, err := cs.Pods().GuaranteedUpdate(ctx, "default", "c1", func(p *api.Pod) (*api.Pod, error) {
			p.Labels = map[string]string{"round": fmt.Sprint(round)}
			return p, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var offer *offersapi.Offer
	controllertest.Eventually(t, "an offer to c", func() (err error) {
		offer, err = pendingOffer(ctx, offerClient, "c")
		return err
	})
	phase := func() (offersapi.OfferPhase, error) {
		o, err := offerClient.Get(ctx, "", offer.Name)
		if err != nil {
			return "", err
		}
		return o.Status.Phase, nil
	}
	advance(11 * time.Second)
	controllertest.Eventually(t, "the offer expired", func() error {
		if p, err := phase(); err != nil || p != offersapi.OfferExpired {
			return fmt.Errorf("phase %q, %v", p, err)
		}
		return nil
	})
	// Within the retention: kept, whatever rounds run.
	advance(30 * time.Second)
	advance(20 * time.Second)
	time.Sleep(300 * time.Millisecond) // rounds run on events; give them time to act wrongly
	if p, err := phase(); err != nil || p != offersapi.OfferExpired {
		t.Fatalf("the expired offer within its retention: phase %q, %v; want it kept", p, err)
	}
	advance(15 * time.Second) // 10 s to expiry + 76 s > 10 s + 1 min
	controllertest.Eventually(t, "the ended offer deleted", func() error {
		if _, err := offerClient.Get(ctx, "", offer.Name); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("get: %v, want not found", err)
		}
		return nil
	})
	// Whatever else exists is pending or ended within its retention.
	l, err := offerClient.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Items {
		if o.Status.Phase != offersapi.OfferPending && !fc.Now().Before(o.Spec.ExpiryTime.Add(time.Minute)) {
			t.Errorf("offer %s (%s, expiry %s) outlived its retention (now %s)", o.Name, o.Status.Phase, o.Spec.ExpiryTime, fc.Now())
		}
	}
}
