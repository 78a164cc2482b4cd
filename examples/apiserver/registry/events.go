package registry

import (
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/events"
)

// Core v1 events and events.k8s.io/v1 events are one set of objects, as in
// Kubernetes: the apiserver stores core events and serves them in either
// shape. The two conversions below are lossless inverses of each other
// (every field of one shape has its place in the other).

// ToEventsV1 returns e in the events.k8s.io/v1 shape.
func ToEventsV1(e *api.Event) *events.Event {
	e = e.DeepCopy()
	out := &events.Event{
		ObjectMeta:               e.ObjectMeta,
		EventTime:                e.EventTime,
		ReportingController:      e.ReportingController,
		ReportingInstance:        e.ReportingInstance,
		Action:                   e.Action,
		Reason:                   e.Reason,
		Regarding:                e.InvolvedObject,
		Note:                     e.Message,
		Type:                     e.Type,
		DeprecatedSource:         e.Source,
		DeprecatedFirstTimestamp: e.FirstTimestamp,
		DeprecatedLastTimestamp:  e.LastTimestamp,
		DeprecatedCount:          e.Count,
	}
	out.APIVersion, out.Kind = events.EventResource.APIVersion, events.EventResource.Kind
	out.Related = e.Related
	if e.Series != nil {
		out.Series = &events.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

// FromEventsV1 returns e in the core v1 shape.
func FromEventsV1(e *events.Event) *api.Event {
	e = e.DeepCopy()
	out := &api.Event{
		ObjectMeta:          e.ObjectMeta,
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	out.APIVersion, out.Kind = api.EventResource.APIVersion, api.EventResource.Kind
	out.Related = e.Related
	if e.Series != nil {
		out.Series = &api.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}
