package offers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
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
	if errs := f.FieldErrors(); len(errs) > 0 {
		return fmt.Errorf("framework %q: %w", f.Name, errs)
	}
	return nil
}

// FieldErrors is Validate's list of problems, one per field (the
// apiserver's validation).
func (f *Framework) FieldErrors() store.FieldErrors {
	var errs store.FieldErrors
	if f.Name == "" && f.GenerateName == "" {
		errs = append(errs, &store.FieldError{Field: "metadata.name", Reason: "Required value"})
	}
	if f.Spec.Weight < 0 {
		errs = append(errs, &store.FieldError{Field: "spec.weight", Value: fmt.Sprint(f.Spec.Weight), Reason: "must not be negative"})
	}
	errs = append(errs, nonNegative("spec.taskResources", f.Spec.TaskResources)...)
	errs = append(errs, nonNegative("spec.totalResources", f.Spec.TotalResources)...)
	if f.Spec.FailoverTimeout != nil && f.Spec.FailoverTimeout.Duration < 0 {
		errs = append(errs, &store.FieldError{Field: "spec.failoverTimeout", Value: f.Spec.FailoverTimeout.Duration.String(), Reason: "must not be negative"})
	}
	return errs
}

// SetDefaults fills o's unset fields: a decline's refuse time
// DefaultRefuseSeconds.
func (o *Offer) SetDefaults() {
	if o.Spec.Decline != nil && o.Spec.Decline.RefuseSeconds == nil {
		r := int32(DefaultRefuseSeconds)
		o.Spec.Decline.RefuseSeconds = &r
	}
}

// Validate reports every problem of o's spec, each naming its field; nil
// when o is valid.
func (o *Offer) Validate() error {
	if errs := o.FieldErrors(); len(errs) > 0 {
		return fmt.Errorf("offer %q: %w", o.Name, errs)
	}
	return nil
}

// FieldErrors is Validate's list of problems, one per field.
func (o *Offer) FieldErrors() store.FieldErrors {
	var errs store.FieldErrors
	required := func(field string) { errs = append(errs, &store.FieldError{Field: field, Reason: "Required value"}) }
	if o.Spec.Framework == "" {
		required("spec.framework")
	}
	if o.Spec.Node == "" {
		required("spec.node")
	}
	if len(o.Spec.Resources) == 0 {
		required("spec.resources")
	}
	errs = append(errs, nonNegative("spec.resources", o.Spec.Resources)...)
	if o.Spec.ExpiryTime.IsZero() {
		required("spec.expiryTime")
	}
	for i, t := range o.Spec.Tasks {
		if ns, name, ok := strings.Cut(t, "/"); !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, &store.FieldError{Field: fmt.Sprintf("spec.tasks[%d]", i), Value: t, Reason: "Invalid value: want namespace/name"})
		}
	}
	if d := o.Spec.Decline; d != nil {
		if len(o.Spec.Tasks) > 0 {
			errs = append(errs, &store.FieldError{Field: "spec.decline", Reason: "Forbidden: an offer is either accepted (spec.tasks) or declined, not both"})
		}
		if r := d.RefuseSeconds; r != nil && (*r < 0 || *r > MaxRefuseSeconds) {
			errs = append(errs, &store.FieldError{Field: "spec.decline.refuseSeconds", Value: fmt.Sprint(*r),
				Reason: fmt.Sprintf("Invalid value: must be between 0 and %d", MaxRefuseSeconds)})
		}
	}
	switch o.Status.Phase {
	case "", OfferPending, OfferAccepted, OfferDeclined, OfferRescinded, OfferExpired:
	default:
		errs = append(errs, &store.FieldError{Field: "status.phase", Value: string(o.Status.Phase),
			Reason: "Unsupported value: want Pending, Accepted, Declined, Rescinded or Expired"})
	}
	return errs
}

// nonNegative returns an error for each negative quantity of l, in name
// order.
func nonNegative[L ~map[K]V, K ~string, V interface {
	Sign() int
	String() string
}](path string, l L) store.FieldErrors {
	names := make([]string, 0, len(l))
	for n, q := range l {
		if q.Sign() < 0 {
			names = append(names, string(n))
		}
	}
	sort.Strings(names)
	var errs store.FieldErrors
	for _, n := range names {
		errs = append(errs, &store.FieldError{Field: path + "[" + n + "]", Value: l[K(n)].String(), Reason: "must not be negative"})
	}
	return errs
}
