package offers

import (
	"errors"
	"fmt"
	"sort"
)

// SetDefaults fills f's unset fields: role "*", weight 1.
func (f *Framework) SetDefaults() {
	if f.Spec.Role == "" {
		f.Spec.Role = DefaultRole
	}
	if f.Spec.Weight == 0 {
		f.Spec.Weight = 1
	}
}

// Validate reports every problem of f's spec, each naming its field; nil
// when f is valid. It reads f only.
func (f *Framework) Validate() error {
	var errs []error
	if f.Name == "" {
		errs = append(errs, errors.New("metadata.name: required"))
	}
	if f.Spec.Weight < 0 {
		errs = append(errs, fmt.Errorf("spec.weight: %d is negative", f.Spec.Weight))
	}
	errs = append(errs, nonNegative("spec.taskResources", f.Spec.TaskResources)...)
	errs = append(errs, nonNegative("spec.totalResources", f.Spec.TotalResources)...)
	if f.Spec.FailoverTimeout != nil && f.Spec.FailoverTimeout.Duration < 0 {
		errs = append(errs, fmt.Errorf("spec.failoverTimeout: %s is negative", f.Spec.FailoverTimeout.Duration))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("framework %q: %w", f.Name, err)
	}
	return nil
}

// Validate reports every problem of o's spec, each naming its field; nil
// when o is valid.
func (o *Offer) Validate() error {
	var errs []error
	if o.Spec.Framework == "" {
		errs = append(errs, errors.New("spec.framework: required"))
	}
	if o.Spec.Node == "" {
		errs = append(errs, errors.New("spec.node: required"))
	}
	if len(o.Spec.Resources) == 0 {
		errs = append(errs, errors.New("spec.resources: required"))
	}
	errs = append(errs, nonNegative("spec.resources", o.Spec.Resources)...)
	if o.Spec.ExpiryTime.IsZero() {
		errs = append(errs, errors.New("spec.expiryTime: required"))
	}
	switch o.Status.Phase {
	case "", OfferPending, OfferAccepted, OfferDeclined, OfferRescinded, OfferExpired:
	default:
		errs = append(errs, fmt.Errorf("status.phase: %q is not one of Pending, Accepted, Declined, Rescinded, Expired", o.Status.Phase))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("offer %q: %w", o.Name, err)
	}
	return nil
}

// nonNegative returns an error for each negative quantity of l, in name
// order.
func nonNegative[L ~map[K]V, K ~string, V interface{ Sign() int }](path string, l L) []error {
	names := make([]string, 0, len(l))
	for n, q := range l {
		if q.Sign() < 0 {
			names = append(names, string(n))
		}
	}
	sort.Strings(names)
	errs := make([]error, len(names))
	for i, n := range names {
		errs[i] = fmt.Errorf("%s[%s]: negative", path, n)
	}
	return errs
}
