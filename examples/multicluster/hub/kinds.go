package hub

import (
	"fmt"
	"strings"

	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	apiregistry "github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

// The multicluster.setpoint.dev/v1alpha1 kinds as the parent apiserver
// serves them (Kinds lists them for apiserver.Config.ExtraKinds). Each
// is defaulted and validated with its type's SetDefaults and Validate, so
// a Subscription with an unparsable selector or a Localization with a
// malformed patch is refused with the field at fault and nothing stored.
// ClusterRegistrationRequest, ManagedCluster, Subscription and Description
// have a status subresource.
var (
	ClusterRegistrationRequestKind = mustKind(apiregistry.NewKind(apiregistry.KindSpec[*mc.ClusterRegistrationRequest]{
		Resource: mc.ClusterRegistrationRequestResource, ShortNames: []string{"clsrr"},
		New:      func() *mc.ClusterRegistrationRequest { return &mc.ClusterRegistrationRequest{} },
		Default:  (*mc.ClusterRegistrationRequest).SetDefaults,
		Validate: validator((*mc.ClusterRegistrationRequest).Validate),
		Status:   true,
		Columns: []table.Column[*mc.ClusterRegistrationRequest]{
			apiregistry.StringColumn("Cluster ID", "The child's ID.", func(r *mc.ClusterRegistrationRequest) string { return r.Spec.ClusterID }),
			apiregistry.StringColumn("Result", "The hub's decision: Pending, Approved or Denied.", func(r *mc.ClusterRegistrationRequest) string {
				if r.Status.Result == "" {
					return string(mc.RegistrationPending)
				}
				return string(r.Status.Result)
			}),
			apiregistry.StringColumn("Cluster Namespace", "The child's dedicated namespace, once approved.", func(r *mc.ClusterRegistrationRequest) string {
				return orNone(r.Status.DedicatedNamespace)
			}),
		},
		Schemas: mc.OpenAPISchemas(),
	}))
	ManagedClusterKind = mustKind(apiregistry.NewKind(apiregistry.KindSpec[*mc.ManagedCluster]{
		Resource: mc.ManagedClusterResource, ShortNames: []string{"mcls"},
		New:      func() *mc.ManagedCluster { return &mc.ManagedCluster{} },
		Default:  (*mc.ManagedCluster).SetDefaults,
		Validate: validator((*mc.ManagedCluster).Validate),
		Status:   true,
		Columns: []table.Column[*mc.ManagedCluster]{
			apiregistry.StringColumn("Cluster ID", "The child's ID.", func(c *mc.ManagedCluster) string { return c.Spec.ClusterID }),
			apiregistry.StringColumn("Sync Mode", "How Descriptions reach the child.", func(c *mc.ManagedCluster) string { return string(c.Spec.SyncMode) }),
			apiregistry.StringColumn("Kubernetes", "The child apiserver's version.", func(c *mc.ManagedCluster) string { return orNone(c.Status.KubernetesVersion) }),
			apiregistry.StringColumn("Ready", "The Ready condition.", func(c *mc.ManagedCluster) string {
				for _, cd := range c.Status.Conditions {
					if cd.Type == mc.ConditionReady {
						return string(cd.Status)
					}
				}
				return "Unknown"
			}),
		},
		Schemas: mc.OpenAPISchemas(),
	}))
	SubscriptionKind = mustKind(apiregistry.NewKind(apiregistry.KindSpec[*mc.Subscription]{
		Resource: mc.SubscriptionResource, ShortNames: []string{"sub", "subs"},
		New:      func() *mc.Subscription { return &mc.Subscription{} },
		Default:  (*mc.Subscription).SetDefaults,
		Validate: validator((*mc.Subscription).Validate),
		Status:   true,
		Columns: []table.Column[*mc.Subscription]{
			apiregistry.StringColumn("Strategy", "Replication or Dividing (and how).", func(s *mc.Subscription) string {
				if s.Spec.SchedulingStrategy == mc.Dividing {
					return string(s.Spec.SchedulingStrategy) + "/" + string(s.Spec.DividingType)
				}
				return string(s.Spec.SchedulingStrategy)
			}),
			apiregistry.StringColumn("Clusters", "The bound clusters and their replicas.", subscriptionClusters),
			apiregistry.StringColumn("Deployed", "Clusters whose Description was applied, of those bound.", func(s *mc.Subscription) string {
				ok := 0
				for _, c := range s.Status.Clusters {
					if c.Phase == mc.DescriptionSuccess {
						ok++
					}
				}
				return fmt.Sprintf("%d/%d", ok, len(s.Status.BindingClusters))
			}),
		},
		Schemas: mc.OpenAPISchemas(),
	}))
	BaseKind = mustKind(apiregistry.NewKind(apiregistry.KindSpec[*mc.Base]{
		Resource: mc.BaseResource,
		New:      func() *mc.Base { return &mc.Base{} },
		Columns: []table.Column[*mc.Base]{
			apiregistry.StringColumn("Subscription", "The source Subscription.", func(b *mc.Base) string { return b.Spec.Subscription }),
		},
		Schemas: mc.OpenAPISchemas(),
	}))
	LocalizationKind = mustKind(apiregistry.NewKind(apiregistry.KindSpec[*mc.Localization]{
		Resource: mc.LocalizationResource, ShortNames: []string{"loc"},
		New:      func() *mc.Localization { return &mc.Localization{} },
		Default:  (*mc.Localization).SetDefaults,
		Validate: validator((*mc.Localization).Validate),
		Columns:  overrideColumns(func(l *mc.Localization) *mc.OverrideSpec { return &l.Spec }),
		Schemas:  mc.OpenAPISchemas(),
	}))
	GlobalizationKind = mustKind(apiregistry.NewKind(apiregistry.KindSpec[*mc.Globalization]{
		Resource: mc.GlobalizationResource, ShortNames: []string{"glob"},
		New:      func() *mc.Globalization { return &mc.Globalization{} },
		Default:  (*mc.Globalization).SetDefaults,
		Validate: validator((*mc.Globalization).Validate),
		Columns:  overrideColumns(func(g *mc.Globalization) *mc.OverrideSpec { return &g.Spec }),
		Schemas:  mc.OpenAPISchemas(),
	}))
	DescriptionKind = mustKind(apiregistry.NewKind(apiregistry.KindSpec[*mc.Description]{
		Resource: mc.DescriptionResource, ShortNames: []string{"desc"},
		New:      func() *mc.Description { return &mc.Description{} },
		Validate: validator((*mc.Description).Validate),
		Status:   true,
		Columns: []table.Column[*mc.Description]{
			apiregistry.StringColumn("Subscription", "The source Subscription.", func(d *mc.Description) string { return d.Spec.Subscription }),
			apiregistry.StringColumn("Objects", "How many objects it holds.", func(d *mc.Description) string { return fmt.Sprint(len(d.Spec.Objects)) }),
			apiregistry.StringColumn("Phase", "What the child made of it.", func(d *mc.Description) string { return orNone(string(d.Status.Phase)) }),
		},
		Schemas: mc.OpenAPISchemas(),
	}))
)

// Kinds returns the group's kinds for apiserver.Config.ExtraKinds.
func Kinds() []apiserver.ExtraKind {
	return []apiserver.ExtraKind{
		apiserver.Serve(ClusterRegistrationRequestKind), apiserver.Serve(ManagedClusterKind), apiserver.Serve(SubscriptionKind),
		apiserver.Serve(BaseKind), apiserver.Serve(LocalizationKind), apiserver.Serve(GlobalizationKind), apiserver.Serve(DescriptionKind),
	}
}

func subscriptionClusters(s *mc.Subscription) string {
	if len(s.Status.BindingClusters) == 0 {
		return "<none>"
	}
	parts := make([]string, 0, len(s.Status.BindingClusters))
	for _, c := range s.Status.BindingClusters {
		_, name, _ := strings.Cut(c, "/")
		if r, ok := s.Status.Replicas[c]; ok {
			parts = append(parts, fmt.Sprintf("%s=%d", name, r))
		} else {
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, ",")
}

func overrideColumns[T store.Object](spec func(T) *mc.OverrideSpec) []table.Column[T] {
	return []table.Column[T]{
		apiregistry.StringColumn("Feed", "The object overridden, as kind/namespace/name.", func(o T) string {
			f := spec(o).Feed
			return f.Kind + "/" + f.Namespace + "/" + f.Name
		}),
		apiregistry.StringColumn("Priority", "Lower first; a higher one wins.", func(o T) string { return fmt.Sprint(spec(o).Priority) }),
	}
}

// validator adapts a type's Validate (whose joined errors each start with
// their field's path) to the registry's field errors.
func validator[T any](validate func(T) error) func(T) store.FieldErrors {
	return func(obj T) store.FieldErrors { return fieldErrors(validate(obj)) }
}

// fieldErrors splits an error of multicluster's Validate into field
// errors: it wraps ErrInvalid and the joined per-field errors, each
// "<path>: <reason>".
func fieldErrors(err error) store.FieldErrors {
	if err == nil {
		return nil
	}
	var leaves []error
	var flatten func(error)
	flatten = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				if x != mc.ErrInvalid {
					flatten(x)
				}
			}
			return
		}
		leaves = append(leaves, e)
	}
	flatten(err)
	var out store.FieldErrors
	for _, e := range leaves {
		field, reason, ok := strings.Cut(e.Error(), ": ")
		if !ok || strings.ContainsAny(field, " \"") {
			field, reason = "", e.Error()
		}
		out = append(out, &store.FieldError{Field: field, Reason: reason})
	}
	if len(out) == 0 {
		out = append(out, &store.FieldError{Reason: err.Error()})
	}
	return out
}

func mustKind[T store.Object](k *apiregistry.Kind[T], err error) *apiregistry.Kind[T] {
	if err != nil {
		panic(err) // the group's own kinds are consistent (tested by building them)
	}
	return k
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
