package storetest

import "github.com/setpoint-dev/setpoint/store"

// Widget is the object type the typed-store suite stores. It is shaped like
// a Kubernetes object: type and object metadata, a desired-state Spec and an
// observed-state Status.
type Widget struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             WidgetSpec   `json:"spec,omitempty"`
	Status           WidgetStatus `json:"status,omitempty"`
}

// WidgetSpec is a Widget's desired state.
type WidgetSpec struct {
	// Size is any number.
	Size int `json:"size,omitempty"`
	// Color is any string.
	Color string `json:"color,omitempty"`
	// Data pads the object (for size limits).
	Data string `json:"data,omitempty"`
}

// WidgetStatus is a Widget's observed state.
type WidgetStatus struct {
	// Count is incremented by the concurrency tests.
	Count int `json:"count,omitempty"`
	// Phase is any string.
	Phase string `json:"phase,omitempty"`
}

// WidgetResource is the namespaced resource the suite uses.
var WidgetResource = store.Resource{Name: "widgets", APIVersion: "test.setpoint.dev/v1", Kind: "Widget", Namespaced: true}

// GizmoResource is a cluster-scoped resource (of Widgets) the suite uses.
var GizmoResource = store.Resource{Name: "gizmos", APIVersion: "test.setpoint.dev/v1", Kind: "Gizmo", Namespaced: false}

// NewWidget returns a Widget in namespace ns with the given name and labels.
func NewWidget(ns, name string, labels map[string]string) *Widget {
	return &Widget{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
}
