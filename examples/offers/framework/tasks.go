package framework

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/store"
)

// Accept accepts offer o with tasks: it creates their pods (unbound,
// spec.schedulerName the framework's name, labelled LabelFramework and
// LabelTask), names them in the offer's spec.tasks, and waits for the
// allocator's answer. It returns nil once the allocator has bound them to
// the offer's node (statuses follow on Statuses). If the allocator
// rejects the accept (tasks beyond the offer, an offer that expired or
// was rescinded) it deletes the pods, so nothing is launched, and returns
// an error wrapping ErrRejected with the allocator's reason. An offer
// answered already is ErrAnswered, an offer made to another framework
// ErrRejected wrapping offers.ErrForeignOffer, and both create nothing
// (the allocator rejects such an accept written by other means: the task
// pods' schedulerName is not the offer's framework); an invalid task is
// ErrInvalid.
func (d *Driver) Accept(ctx context.Context, o offersapi.Offer, tasks []Task) error {
	if err := d.running(); err != nil {
		return err
	}
	if o.Spec.Framework != d.name {
		return fmt.Errorf("offer %s: made to framework %s, not %s: %w: %w", o.Name, o.Spec.Framework, d.name, ErrRejected, offers.ErrForeignOffer)
	}
	if len(tasks) == 0 {
		return fmt.Errorf("offer %s: accept with no tasks (decline instead): %w", o.Name, ErrInvalid)
	}
	names := map[string]bool{}
	for i, t := range tasks {
		switch {
		case t.Name == "":
			return fmt.Errorf("offer %s: task %d: name required: %w", o.Name, i, ErrInvalid)
		case names[t.Name]:
			return fmt.Errorf("offer %s: task %s named twice: %w", o.Name, t.Name, ErrInvalid)
		case len(t.Resources) == 0:
			return fmt.Errorf("offer %s: task %s: resources required: %w", o.Name, t.Name, ErrInvalid)
		}
		names[t.Name] = true
	}
	if cur, ok := d.offersInf.Get("", o.Name); ok && answered(cur) {
		return fmt.Errorf("offer %s: %s: %w", o.Name, orPhase(cur), ErrAnswered)
	}
	refs := make([]string, 0, len(tasks))
	var created []*api.Pod
	cleanup := func() {
		// Best effort on a context of its own: the caller's may be done.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, p := range created {
			if err := d.cfg.Client.Pods().DeleteNow(cctx, p.Namespace, p.Name, store.WithPreconditionUID(p.UID)); err != nil &&
				!errors.Is(err, store.ErrNotFound) {
				d.log.Error("deleting a task pod of a failed accept", "pod", p.Name, "err", err)
			}
		}
	}
	for _, t := range tasks {
		p, err := d.cfg.Client.Pods().Create(ctx, d.pod(t))
		if err != nil {
			cleanup()
			return fmt.Errorf("offer %s: task %s: creating its pod: %w", o.Name, t.Name, err)
		}
		created = append(created, p)
		refs = append(refs, p.Namespace+"/"+p.Name)
	}
	// Subscribe before the write, so no answer is missed.
	d.mu.Lock()
	changed := d.changed
	d.mu.Unlock()
	if _, err := d.offClient.GuaranteedUpdate(ctx, "", o.Name, func(cur *offersapi.Offer) (*offersapi.Offer, error) {
		if answered(cur) {
			return nil, fmt.Errorf("offer %s: %s: %w", o.Name, orPhase(cur), ErrAnswered)
		}
		cur.Spec.Tasks = refs
		return cur, nil
	}); err != nil {
		cleanup()
		return err
	}
	for {
		if cur, ok := d.offersInf.Get("", o.Name); ok {
			switch {
			case cur.Status.Phase == offersapi.OfferAccepted:
				return nil
			case cur.Status.Reason == offers.ReasonRejected:
				cleanup()
				return fmt.Errorf("offer %s: %w: %s", o.Name, ErrRejected, cur.Status.Message)
			case cur.Status.Phase != offersapi.OfferPending:
				cleanup()
				return fmt.Errorf("offer %s: %s (%s) before the allocator took the tasks: %w", o.Name, orPhase(cur), cur.Status.Reason, ErrRejected)
			}
		}
		select {
		case <-ctx.Done():
			// The allocator may still bind them; the pods are left
			// for it, and their statuses will say.
			return fmt.Errorf("offer %s: waiting for the allocator: %w", o.Name, context.Cause(ctx))
		case <-changed:
		}
		d.mu.Lock()
		changed = d.changed
		d.mu.Unlock()
	}
}

// Decline declines offer o: the allocator takes its resources back and
// does not offer the framework o's node again for refuse (rounded up to
// whole seconds; 0: no filter). It returns once the decline is written.
// An offer answered already is ErrAnswered (but one whose accept was
// rejected, still pending, may be declined); a negative or over a year
// long refuse is ErrInvalid.
func (d *Driver) Decline(ctx context.Context, o offersapi.Offer, refuse time.Duration) error {
	if err := d.running(); err != nil {
		return err
	}
	if refuse < 0 || refuse > offersapi.MaxRefuseSeconds*time.Second {
		return fmt.Errorf("offer %s: refuse %s not between 0 and %ds: %w", o.Name, refuse, offersapi.MaxRefuseSeconds, ErrInvalid)
	}
	secs := int32(math.Ceil(refuse.Seconds()))
	_, err := d.offClient.GuaranteedUpdate(ctx, "", o.Name, func(cur *offersapi.Offer) (*offersapi.Offer, error) {
		// An offer whose accept was rejected is still pending, and may
		// be declined.
		if answered(cur) && (cur.Status.Phase != offersapi.OfferPending || cur.Status.Reason != offers.ReasonRejected) {
			return nil, fmt.Errorf("offer %s: %s: %w", o.Name, orPhase(cur), ErrAnswered)
		}
		cur.Spec.Tasks = nil
		cur.Spec.Decline = &offersapi.OfferDecline{RefuseSeconds: &secs}
		return cur, nil
	})
	return err
}

// Kill deletes task's pod (gracefully, as any pod); its status turns Lost
// when the pod is gone, and the allocator releases its resources.
func (d *Driver) Kill(ctx context.Context, task string) error {
	if _, err := d.cfg.Client.Pods().Delete(ctx, d.cfg.Namespace, task); err != nil {
		return fmt.Errorf("task %s: %w", task, err)
	}
	return nil
}

func (d *Driver) running() error {
	select {
	case <-d.ready:
		return nil
	default:
		return fmt.Errorf("framework %s: %w", d.name, ErrNotRunning)
	}
}

// answered: o has an answer, or is no longer pending.
func answered(o *offersapi.Offer) bool {
	return o.Status.Phase != offersapi.OfferPending || len(o.Spec.Tasks) > 0 || o.Spec.Decline != nil
}

func orPhase(o *offersapi.Offer) string {
	if o.Status.Phase != offersapi.OfferPending {
		return "already " + string(o.Status.Phase)
	}
	return "already answered"
}

// pod is task t's pod.
func (d *Driver) pod(t Task) *api.Pod {
	p := &api.Pod{}
	p.Namespace, p.Name = d.cfg.Namespace, t.Name
	p.Labels = map[string]string{LabelFramework: d.name, LabelTask: t.Name}
	p.Spec.SchedulerName = d.name
	p.Spec.RestartPolicy = api.RestartPolicyNever
	image := t.Image
	if image == "" {
		image = d.cfg.Image
	}
	req := api.ResourceList{}
	for n, q := range t.Resources {
		req[n] = q
	}
	p.Spec.Containers = []api.Container{{Name: "task", Image: image, Command: t.Command,
		Resources: api.ResourceRequirements{Requests: req, Limits: req}}}
	return p
}

// observe turns a task pod's change into a status update (only when its
// state changes).
func (d *Driver) observe(p *api.Pod, deleted bool) {
	task := p.Labels[LabelTask]
	if task == "" {
		return
	}
	st := offers.TaskStatus{Task: task, Node: p.Spec.NodeName, State: offers.TaskStaging, Message: p.Status.Message}
	switch {
	case p.Status.Phase == api.PodSucceeded:
		st.State = offers.TaskFinished
	case p.Status.Phase == api.PodFailed:
		st.State = offers.TaskFailed
	case deleted:
		st.State, st.Message = offers.TaskLost, "task pod deleted before it ended"
	case p.Status.Phase == api.PodRunning:
		st.State = offers.TaskRunning
	case p.Spec.NodeName == "":
		return // not launched (yet): the accept's answer says
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if deleted {
		delete(d.states, task)
	} else {
		if d.states[task] == st.State {
			return
		}
		d.states[task] = st.State
	}
	if _, queued := d.pending[task]; !queued {
		d.queue = append(d.queue, task)
	}
	d.pending[task] = st
	d.poke()
}

func (d *Driver) peekStatus() (offers.TaskStatus, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return offers.TaskStatus{}, false
	}
	return d.pending[d.queue[0]], true
}

func (d *Driver) popStatus() {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.pending, d.queue[0])
	d.queue = d.queue[1:]
}

// holdLease renews the framework's Lease every third of LeaseDuration
// until ctx ends. A failed renewal is logged and retried: the allocator
// decides liveness from the renewals it sees.
func (d *Driver) holdLease(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.cfg.Clock.After(d.cfg.LeaseDuration / 3):
		}
		if err := d.renew(ctx, true); err != nil && ctx.Err() == nil {
			d.log.Warn("renewing the framework's lease", "err", err)
		}
	}
}

// renew writes the framework's Lease: held by the framework (hold), or
// released (holder empty), which the allocator takes as the framework's
// leaving.
func (d *Driver) renew(ctx context.Context, hold bool) error {
	leases := d.cfg.Client.Leases()
	name := offers.FrameworkLeaseName(d.name)
	holder := ""
	if hold {
		holder = d.name
	}
	secs := int32(math.Ceil(d.cfg.LeaseDuration.Seconds()))
	now := store.NewMicroTime(d.cfg.Clock.Now())
	set := func(l *election.Lease) {
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &holder, &secs, &now
	}
	_, err := leases.GuaranteedUpdate(ctx, d.cfg.LeaseNamespace, name, func(l *election.Lease) (*election.Lease, error) {
		set(l)
		return l, nil
	})
	if errors.Is(err, store.ErrNotFound) && hold {
		l := &election.Lease{}
		l.Namespace, l.Name = d.cfg.LeaseNamespace, name
		set(l)
		_, err = leases.Create(ctx, l)
	}
	if err != nil {
		return fmt.Errorf("framework %s: lease %s/%s: %w", d.name, d.cfg.LeaseNamespace, name, err)
	}
	return nil
}

// HowMany returns how many tasks of size task fit in offered: the least,
// over the resources task names, of offered's amount divided by the
// task's. A task that names no positive amount fits 0 times.
func HowMany(offered, task api.ResourceList) int {
	n := -1
	for name, q := range task {
		need := q.MilliValue()
		if need <= 0 {
			continue
		}
		have := offered[name]
		k := int(have.MilliValue() / need)
		if n < 0 || k < n {
			n = k
		}
	}
	return max(n, 0)
}
