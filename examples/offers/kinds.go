package offers

import (
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

// FrameworkKind and OfferKind are the offers.setpoint.dev/v1alpha1 kinds
// as the apiserver serves them (apiserver.Serve(FrameworkKind) in
// apiserver.Config.ExtraKinds): cluster-scoped, with a status
// subresource; kubectl get frameworks shows ROLE, WEIGHT and DOMINANT
// SHARE, kubectl get offers NODE, FRAMEWORK, CPU, MEMORY, EXPIRES (and
// PHASE).
var (
	FrameworkKind = mustKind(registry.NewKind(registry.KindSpec[*offersapi.Framework]{
		Resource: offersapi.FrameworkResource, ShortNames: []string{"fw"},
		New:      func() *offersapi.Framework { return &offersapi.Framework{} },
		Default:  (*offersapi.Framework).SetDefaults,
		Validate: (*offersapi.Framework).FieldErrors,
		Status:   true,
		Columns: []table.Column[*offersapi.Framework]{
			registry.StringColumn("Role", "The framework's role.", func(f *offersapi.Framework) string { return f.Spec.Role }),
			{Definition: table.ColumnDefinition{Name: "Weight", Type: "integer", Description: "The framework's weight."},
				Cell: func(f *offersapi.Framework, _ time.Time) any { return int64(f.Spec.Weight) }},
			registry.StringColumn("Dominant Share", "The framework's dominant share of the cluster.", func(f *offersapi.Framework) string {
				return orNone(f.Status.DominantShare)
			}),
		},
		Fields:  store.Fields[*offersapi.Framework]{"spec.role": func(f *offersapi.Framework) string { return f.Spec.Role }},
		Schemas: offersapi.OpenAPISchemas(),
	}))
	OfferKind = mustKind(registry.NewKind(registry.KindSpec[*offersapi.Offer]{
		Resource: offersapi.OfferResource,
		New:      func() *offersapi.Offer { return &offersapi.Offer{} },
		Default:  (*offersapi.Offer).SetDefaults,
		Validate: (*offersapi.Offer).FieldErrors,
		Status:   true,
		Columns: []table.Column[*offersapi.Offer]{
			registry.StringColumn("Node", "The offered node.", func(o *offersapi.Offer) string { return o.Spec.Node }),
			registry.StringColumn("Framework", "The framework offered to.", func(o *offersapi.Offer) string { return o.Spec.Framework }),
			registry.StringColumn("CPU", "Offered CPU.", func(o *offersapi.Offer) string { return quantityOf(o.Spec.Resources, api.ResourceCPU) }),
			registry.StringColumn("Memory", "Offered memory.", func(o *offersapi.Offer) string {
				return quantityOf(o.Spec.Resources, api.ResourceMemory)
			}),
			{Definition: table.ColumnDefinition{Name: "Expires", Type: "string", Description: "Time until the offer lapses."},
				Cell: func(o *offersapi.Offer, now time.Time) any {
					if d := o.Spec.ExpiryTime.Sub(now); d > 0 {
						return table.HumanDuration(d)
					}
					return "expired"
				}},
			registry.StringColumn("Phase", "Where the offer stands.", func(o *offersapi.Offer) string { return orNone(string(o.Status.Phase)) }),
		},
		Fields: store.Fields[*offersapi.Offer]{
			"spec.framework": func(o *offersapi.Offer) string { return o.Spec.Framework },
			"spec.node":      func(o *offersapi.Offer) string { return o.Spec.Node },
			"status.phase":   func(o *offersapi.Offer) string { return string(o.Status.Phase) },
		},
		Schemas: offersapi.OpenAPISchemas(),
	}))
)

func mustKind[T store.Object](k *registry.Kind[T], err error) *registry.Kind[T] {
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

func quantityOf(l api.ResourceList, name api.ResourceName) string {
	q, ok := l[name]
	if !ok {
		return "<none>"
	}
	return q.String()
}
