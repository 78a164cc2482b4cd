package offers

import (
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
)

// pendingOffer returns framework's pending offer id, or the error that
// says why it cannot be answered. An offer past its expiry is expired
// here even before the next cycle.
func (a *Allocator) pendingOffer(framework, id string) (*offer, error) {
	var o *offer
	seq, ok := offerSeq(id)
	if ok {
		o = a.offers.get(seq)
	}
	if o == nil {
		if c, ok := a.closed[seq]; ok {
			if c.framework.name != framework {
				return nil, fmt.Errorf("offer %s: made to framework %s, not %s: %w", id, c.framework.name, framework, ErrForeignOffer)
			}
			if offerPhases[c.phase] == offersapi.OfferExpired {
				return nil, fmt.Errorf("offer %s: expired at %s: %w", id, a.expiry(c).UTC().Format(time.RFC3339), ErrOfferExpired)
			}
			return nil, fmt.Errorf("offer %s: already %s: %w", id, offerPhases[c.phase], ErrOfferClosed)
		}
		return nil, fmt.Errorf("offer %s: %w", id, ErrUnknownOffer)
	}
	if o.framework.name != framework {
		return nil, fmt.Errorf("offer %s: made to framework %s, not %s: %w", id, o.framework.name, framework, ErrForeignOffer)
	}
	if !a.clock.Now().Before(a.expiry(o)) {
		return nil, fmt.Errorf("offer %s: expired at %s: %w", id, a.expiry(o).UTC().Format(time.RFC3339), ErrOfferExpired)
	}
	return o, nil
}

// Accept launches tasks on an offer made to framework: their resources
// (one list per task) become the framework's allocation on the offer's
// node, and the unused remainder returns to the pool. An offer that is
// unknown, made to another framework, expired or already answered, or
// tasks that need more of a resource than the offer holds, are rejected
// with an error naming the offer (and the resource) and change nothing.
func (a *Allocator) Accept(framework, offerID string, tasks []api.ResourceList) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, err := a.pendingOffer(framework, offerID)
	if err != nil {
		return err
	}
	var sum vec
	for i, t := range tasks {
		v, err := a.names.vec(fmt.Sprintf("offer %s: task %d", offerID, i), t)
		if err != nil {
			return err
		}
		sum = sum.add(v)
	}
	for i := range sum {
		if sum[i] > o.res[i] {
			return fmt.Errorf("offer %s: tasks need %s of %s, the offer holds %s: %w", offerID,
				a.names.qty(i, sum[i]), a.names.name(i), a.names.qty(i, o.res[i]), ErrExceedsOffer)
		}
	}
	fw := a.frameworks[framework]
	a.close(o, offersapi.OfferAccepted)
	a.moveAllocated(fw, o.node.name, sum, 1)
	fw.lastAccept = a.cycle
	a.metrics.accepted.WithLabelValues(framework).Inc()
	a.updateShares()
	return nil
}

// Decline turns down an offer made to framework; its resources return to
// the pool, and with refuse > 0 the framework is not offered the offer's
// node again before refuse has passed. Errors are as for Accept; a
// negative refuse is ErrInvalid. Nothing changes on error.
func (a *Allocator) Decline(framework, offerID string, refuse time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if refuse < 0 {
		return fmt.Errorf("offer %s: refuse %s is negative: %w", offerID, refuse, ErrInvalid)
	}
	o, err := a.pendingOffer(framework, offerID)
	if err != nil {
		return err
	}
	fw := a.frameworks[framework]
	a.close(o, offersapi.OfferDeclined)
	if refuse > 0 {
		fw.filters[o.node.name] = a.clock.Now().Add(refuse)
	}
	a.metrics.declined.WithLabelValues(framework).Inc()
	a.updateShares()
	return nil
}

// Pending returns framework's pending offers, in ID order.
func (a *Allocator) Pending(framework string) []offersapi.Offer {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []offersapi.Offer
	for _, o := range a.sortedOffers(func(o *offer) bool { return o.framework.name == framework }) {
		out = append(out, a.object(o, ""))
	}
	return out
}

// Check verifies the allocator's books and returns the first
// inconsistency: a node whose pods, tasks and offers exceed its
// allocatable, a negative amount, or totals that do not add up. Tests and
// fuzzing call it after every operation; it is nil in every reachable
// state.
func (a *Allocator) Check() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	offered := map[string]vec{}
	for o := range a.offers.all {
		offered[o.node.name] = offered[o.node.name].add(*o.res)
	}
	allocated := map[string]vec{}
	var heldSum vec
	for _, fw := range a.frameworks {
		var own vec
		for n, v := range fw.allocated {
			allocated[n] = allocated[n].add(v)
			own = own.add(v)
		}
		for o := range a.offers.all {
			if o.framework == fw {
				own = own.add(*o.res)
			}
		}
		if own != fw.held {
			return fmt.Errorf("framework %s: holds %v, its allocations and offers sum to %v", fw.name, fw.held, own)
		}
		heldSum = heldSum.add(fw.held)
	}
	var roleSum vec
	for _, r := range a.roles {
		roleSum = roleSum.add(r.held)
	}
	if roleSum != heldSum {
		return fmt.Errorf("roles hold %v, frameworks %v", roleSum, heldSum)
	}
	for _, name := range a.nodeOrder {
		n := a.nodes[name]
		if n.offered != offered[name] || n.allocated != allocated[name] {
			return fmt.Errorf("node %s: books say offered %v allocated %v, offers and frameworks say %v %v", name, n.offered, n.allocated, offered[name], allocated[name])
		}
		if n.offered.clampZero() != n.offered || n.allocated.clampZero() != n.allocated {
			return fmt.Errorf("node %s: negative amount (offered %v, allocated %v)", name, n.offered, n.allocated)
		}
		if !n.used.add(n.allocated).add(n.offered).fits(n.allocatable) {
			return fmt.Errorf("node %s: used %v + allocated %v + offered %v exceed allocatable %v", name, n.used, n.allocated, n.offered, n.allocatable)
		}
	}
	return nil
}
