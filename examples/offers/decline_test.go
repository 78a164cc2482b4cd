package offers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// decline declines offer name over the API with refuse seconds.
func decline(t *testing.T, offerClient *rest.Client[*offersapi.Offer], name string, refuse int32) {
	t.Helper()
	if _, err := offerClient.GuaranteedUpdate(context.Background(), "", name, func(o *offersapi.Offer) (*offersapi.Offer, error) {
		o.Spec.Decline = &offersapi.OfferDecline{RefuseSeconds: &refuse}
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestControllerDecline: a framework declines its offer over the API with
// a 60 s refuse filter (Mesos' refuse_seconds). The offer is written
// Declined and its resources go back to the pool: a framework registered
// next is offered the whole node, and the decliner is offered nothing
// while its filter lasts. Once the filter has passed (on the injected
// clock) it is offered the node again. Bad declines are refused by the
// apiserver naming the field, and change nothing.
func TestControllerDecline(t *testing.T) {
	_, cs, offerClient, fws := startOffers(t, "4", "8Gi", map[string][2]string{"a": {"1", "1Gi"}})
	ctx := context.Background()
	fc := clockwork.NewFakeClock()
	c, err := offers.NewController(offers.ControllerConfig{Client: cs, Identity: "test",
		Allocator: offers.Config{OfferTimeout: time.Hour, HoardCycles: 1 << 20}, Clock: fc,
		LeaseDuration: 10 * time.Hour, RenewDeadline: 5 * time.Hour, RetryPeriod: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "offers controller", c.Run)
	var first *offersapi.Offer
	controllertest.Eventually(t, "an offer to a", func() (err error) {
		first, err = pendingOffer(ctx, offerClient, "a")
		return err
	})

	// Bad declines: a negative or too long refuse time, a decline beside
	// an accept.
	for _, tc := range []struct {
		name    string
		mutate  func(*offersapi.Offer)
		wantErr string
	}{
		{"negative refuse", func(o *offersapi.Offer) { o.Spec.Decline = &offersapi.OfferDecline{RefuseSeconds: ptr(int32(-1))} }, "spec.decline.refuseSeconds"},
		{"refuse beyond a year", func(o *offersapi.Offer) {
			o.Spec.Decline = &offersapi.OfferDecline{RefuseSeconds: ptr(int32(offersapi.MaxRefuseSeconds + 1))}
		}, "spec.decline.refuseSeconds"},
		{"decline and accept", func(o *offersapi.Offer) {
			o.Spec.Decline, o.Spec.Tasks = &offersapi.OfferDecline{}, []string{"default/x"}
		}, "spec.decline"},
	} {
		bad := first.DeepCopy()
		tc.mutate(bad)
		_, err := offerClient.Update(ctx, bad)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: update error %v, want one naming %s", tc.name, err, tc.wantErr)
		}
	}
	if got, err := offerClient.Get(ctx, "", first.Name); err != nil {
		t.Fatal(err)
	} else if d := cmp.Diff(first.Spec, got.Spec); d != "" {
		t.Errorf("bad declines changed the offer:\n%s", d)
	}

	decline(t, offerClient, first.Name, 60)
	controllertest.Eventually(t, "the offer declined", func() error {
		o, err := offerClient.Get(ctx, "", first.Name)
		if err != nil {
			return err
		}
		if o.Status.Phase != offersapi.OfferDeclined {
			return fmt.Errorf("status %+v", o.Status)
		}
		return nil
	})
	b := &offersapi.Framework{}
	b.Name = "b"
	b.Spec.TaskResources = api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("1Gi")}
	if _, err := fws.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	var offerB *offersapi.Offer
	controllertest.Eventually(t, "b offered the whole node", func() (err error) {
		offerB, err = pendingOffer(ctx, offerClient, "b")
		return err
	})
	if cpu := offerB.Spec.Resources[api.ResourceCPU]; cpu.Cmp(api.MustParse("4")) != 0 {
		t.Errorf("b's offer holds %s CPU, want all 4: a's declined resources back in the pool, a filtered", cpu.String())
	}
	if o, err := pendingOffer(ctx, offerClient, "a"); err == nil {
		t.Errorf("a re-offered n1 within its refuse filter: %s", o.Name)
	}

	// b declines for an hour; a's filter passes, and the next cycle
	// offers a n1 again.
	decline(t, offerClient, offerB.Name, 3600)
	controllertest.Eventually(t, "b's offer declined", func() error {
		o, err := offerClient.Get(ctx, "", offerB.Name)
		if err != nil {
			return err
		}
		if o.Status.Phase != offersapi.OfferDeclined {
			return fmt.Errorf("status %+v", o.Status)
		}
		return nil
	})
	fc.Advance(61 * time.Second)
	controllertest.Eventually(t, "a offered again after its filter", func() error {
		o, err := pendingOffer(ctx, offerClient, "a")
		if err != nil {
			return err
		}
		if o.Name == first.Name {
			return fmt.Errorf("the declined offer %s is pending again", o.Name)
		}
		return nil
	})
	// b stays filtered for its hour.
	l, err := offerClient.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Items {
		if o.Spec.Framework == "b" && o.Status.Phase == offersapi.OfferPending {
			t.Errorf("b offered %s within its hour-long filter", o.Name)
		}
	}
}

func ptr[T any](v T) *T { return &v }
