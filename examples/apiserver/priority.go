package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// priorityAdmission is Kubernetes' Priority admission plugin.
//
// On pod creation (mutating) it resolves spec.priorityClassName to
// spec.priority and spec.preemptionPolicy, the class's value and policy.
// A pod without a class gets the globalDefault class (its name, value and
// policy; the lowest value if several are default), or priority 0 and
// PreemptLowerPriority when there is none. A class that does not exist is
// refused with 403 "no PriorityClass with name X was found"; a pod that
// sets spec.priority (or spec.preemptionPolicy) to something other than
// what its class computes is refused with 403 as well.
//
// On PriorityClass writes (validating) it refuses a second globalDefault
// class (403 "PriorityClass X is already marked as default. Only one
// default can exist"), and it makes a write through this server visible to
// its own cache before the write returns, so a pod created right after its
// class sees it.
//
// Classes are read from an informer cache, as Kubernetes reads its lister;
// a named class the cache does not hold yet (created through another
// server a moment ago) is read from the store.
type priorityAdmission struct {
	classes *store.Store[*scheduling.PriorityClass]
	cache   *informer.Informer[*scheduling.PriorityClass]
}

var (
	_ rest.MutatingAdmission   = (*priorityAdmission)(nil)
	_ rest.ValidatingAdmission = (*priorityAdmission)(nil)
)

func newPriorityAdmission(classes *store.Store[*scheduling.PriorityClass], log *slog.Logger) (*priorityAdmission, error) {
	inf, err := informer.New[*scheduling.PriorityClass](classes, informer.Config[*scheduling.PriorityClass]{Name: "admission-priorityclasses", Logger: log})
	if err != nil {
		return nil, err
	}
	return &priorityAdmission{classes: classes, cache: inf}, nil
}

// Name implements rest.AdmissionPlugin.
func (*priorityAdmission) Name() string { return "Priority" }

// Run keeps the class cache until ctx ends.
func (p *priorityAdmission) Run(ctx context.Context) error { return p.cache.Run(ctx) }

func isResource(a rest.Attributes, r store.Resource) bool {
	return a.Resource.Name == r.Name && a.Resource.APIVersion == r.APIVersion
}

// Admit resolves a new pod's priority from its class.
func (p *priorityAdmission) Admit(ctx context.Context, a rest.Attributes) error {
	if a.Verb != "create" || a.Subresource != "" || !isResource(a, api.PodResource) {
		return nil
	}
	pod, ok := a.Object.(*api.Pod)
	if !ok {
		return nil
	}
	var priority int32
	policy := api.PreemptLowerPriority
	if pod.Spec.PriorityClassName == "" {
		if pc := p.defaultClass(); pc != nil {
			pod.Spec.PriorityClassName, priority = pc.Name, pc.Value
			if pc.PreemptionPolicy != nil {
				policy = *pc.PreemptionPolicy
			}
		}
	} else {
		pc, err := p.class(ctx, pod.Spec.PriorityClassName)
		if errors.Is(err, store.ErrNotFound) {
			return admissionForbidden(a, fmt.Sprintf("no PriorityClass with name %s was found", pod.Spec.PriorityClassName))
		}
		if err != nil {
			return fmt.Errorf("looking up PriorityClass %s: %w", pod.Spec.PriorityClassName, err)
		}
		priority = pc.Value
		if pc.PreemptionPolicy != nil {
			policy = *pc.PreemptionPolicy
		}
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return admissionForbidden(a, fmt.Sprintf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, priority))
	}
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != policy {
		return admissionForbidden(a, fmt.Sprintf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, policy))
	}
	pod.Spec.Priority, pod.Spec.PreemptionPolicy = &priority, &policy
	return nil
}

// class returns the named class, from the cache or else the store.
func (p *priorityAdmission) class(ctx context.Context, name string) (*scheduling.PriorityClass, error) {
	if pc, ok := p.cache.Get("", name); ok {
		return pc, nil
	}
	return p.classes.Get(ctx, "", name)
}

// defaultClass returns the globalDefault class with the lowest value, or
// nil.
func (p *priorityAdmission) defaultClass() *scheduling.PriorityClass {
	var best *scheduling.PriorityClass
	for _, pc := range p.cache.List() {
		if pc.GlobalDefault && (best == nil || pc.Value < best.Value) {
			best = pc
		}
	}
	return best
}

// Validate refuses a second default class, and waits until this plugin's
// cache holds a class write before the write returns.
func (p *priorityAdmission) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	if !isResource(a, scheduling.PriorityClassResource) || a.Subresource != "" {
		return write(ctx)
	}
	if pc, ok := a.Object.(*scheduling.PriorityClass); ok && pc.GlobalDefault && (a.Verb == "create" || a.Verb == "update" || a.Verb == "patch") {
		list, err := p.classes.List(ctx, "", store.ListOptions{})
		if err != nil {
			return fmt.Errorf("listing PriorityClasses: %w", err)
		}
		for _, other := range list.Items {
			if other.GlobalDefault && other.Name != pc.Name {
				return admissionForbidden(a, fmt.Sprintf("PriorityClass %s is already marked as default. Only one default can exist", other.Name))
			}
		}
	}
	if err := write(ctx); err != nil || store.DryRunFrom(ctx) {
		return err
	}
	// The write is done; make the cache catch up with it (bounded by the
	// request's context) so that the next pod sees it. A delete is not
	// waited for: the cache drops the class with the next event.
	if a.Verb == "delete" {
		return nil
	}
	name := a.Name
	if name == "" && a.Object != nil {
		name = a.Object.GetObjectMeta().Name
	}
	pc, err := p.classes.Get(ctx, "", name)
	if err != nil {
		return nil // written; the cache catches up on its own
	}
	if rev, err := store.ParseRevision(pc.ResourceVersion); err == nil {
		_ = p.cache.WaitForRevision(ctx, rev)
	}
	return nil
}

// forbidden is the 403 Kubernetes' admission plugins answer with:
// `<resource> "<name>" is forbidden: <reason>`.
func admissionForbidden(a rest.Attributes, reason string) error {
	name := a.Name
	if name == "" && a.Object != nil {
		name = a.Object.GetObjectMeta().Name
	}
	return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, fmt.Sprintf("%s %q is forbidden: %s", a.Resource.Name, name, reason))
}
