package registry

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/api/events"
	"github.com/setpoint-dev/setpoint/store"
)

// The field selector labels of each kind beyond metadata.name and
// metadata.namespace, as Kubernetes' field label conversions define them.
// The selector syntax itself is store.ParseFieldSelector's.

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func podFields() store.Fields[*api.Pod] {
	m := store.MetadataFields[*api.Pod](true)
	m["spec.nodeName"] = func(p *api.Pod) string { return p.Spec.NodeName }
	m["spec.restartPolicy"] = func(p *api.Pod) string { return string(p.Spec.RestartPolicy) }
	m["spec.schedulerName"] = func(p *api.Pod) string { return p.Spec.SchedulerName }
	m["spec.serviceAccountName"] = func(p *api.Pod) string { return p.Spec.ServiceAccountName }
	m["spec.hostNetwork"] = func(p *api.Pod) string { return boolText(p.Spec.HostNetwork) }
	m["status.phase"] = func(p *api.Pod) string { return string(p.Status.Phase) }
	m["status.podIP"] = func(p *api.Pod) string { return p.Status.PodIP }
	m["status.nominatedNodeName"] = func(p *api.Pod) string { return p.Status.NominatedNodeName }
	return m
}

func nodeFields() store.Fields[*api.Node] {
	m := store.MetadataFields[*api.Node](false)
	m["spec.unschedulable"] = func(n *api.Node) string { return boolText(n.Spec.Unschedulable) }
	return m
}

func namespaceFields() store.Fields[*api.Namespace] {
	m := store.MetadataFields[*api.Namespace](false)
	m["status.phase"] = func(n *api.Namespace) string { return string(n.Status.Phase) }
	return m
}

func serviceFields() store.Fields[*api.Service] {
	m := store.MetadataFields[*api.Service](true)
	m["spec.clusterIP"] = func(s *api.Service) string { return s.Spec.ClusterIP }
	m["spec.type"] = func(s *api.Service) string { return string(s.Spec.Type) }
	return m
}

func eventFields() store.Fields[*api.Event] {
	m := store.MetadataFields[*api.Event](true)
	m["involvedObject.kind"] = func(e *api.Event) string { return e.InvolvedObject.Kind }
	m["involvedObject.namespace"] = func(e *api.Event) string { return e.InvolvedObject.Namespace }
	m["involvedObject.name"] = func(e *api.Event) string { return e.InvolvedObject.Name }
	m["involvedObject.uid"] = func(e *api.Event) string { return e.InvolvedObject.UID }
	m["involvedObject.apiVersion"] = func(e *api.Event) string { return e.InvolvedObject.APIVersion }
	m["involvedObject.resourceVersion"] = func(e *api.Event) string { return e.InvolvedObject.ResourceVersion }
	m["involvedObject.fieldPath"] = func(e *api.Event) string { return e.InvolvedObject.FieldPath }
	m["reason"] = func(e *api.Event) string { return e.Reason }
	m["reportingComponent"] = func(e *api.Event) string { return e.ReportingController }
	m["source"] = func(e *api.Event) string { return e.Source.Component }
	m["type"] = func(e *api.Event) string { return e.Type }
	return m
}

func replicaSetFields() store.Fields[*apps.ReplicaSet] {
	m := store.MetadataFields[*apps.ReplicaSet](true)
	m["status.replicas"] = func(r *apps.ReplicaSet) string { return fmt.Sprint(r.Status.Replicas) }
	return m
}

func secretFields() store.Fields[*api.Secret] {
	m := store.MetadataFields[*api.Secret](true)
	m["type"] = func(s *api.Secret) string { return string(s.Type) }
	return m
}

func replicationControllerFields() store.Fields[*api.ReplicationController] {
	m := store.MetadataFields[*api.ReplicationController](true)
	m["status.replicas"] = func(r *api.ReplicationController) string { return fmt.Sprint(r.Status.Replicas) }
	return m
}

func jobFields() store.Fields[*batch.Job] {
	m := store.MetadataFields[*batch.Job](true)
	m["status.successful"] = func(j *batch.Job) string { return fmt.Sprint(j.Status.Succeeded) }
	return m
}

func persistentVolumeFields() store.Fields[*api.PersistentVolume] {
	m := store.MetadataFields[*api.PersistentVolume](false)
	m["status.phase"] = func(p *api.PersistentVolume) string { return string(p.Status.Phase) }
	return m
}

func persistentVolumeClaimFields() store.Fields[*api.PersistentVolumeClaim] {
	m := store.MetadataFields[*api.PersistentVolumeClaim](true)
	m["status.phase"] = func(p *api.PersistentVolumeClaim) string { return string(p.Status.Phase) }
	return m
}

func csrFields() store.Fields[*certificates.CertificateSigningRequest] {
	m := store.MetadataFields[*certificates.CertificateSigningRequest](false)
	m["spec.signerName"] = func(c *certificates.CertificateSigningRequest) string { return c.Spec.SignerName }
	return m
}

// eventsV1Fields are the field labels of events.k8s.io events: the same
// objects as core events, selected by the same labels (regarding.* for
// involvedObject.*).
func eventsV1Fields() store.Fields[*events.Event] {
	m := store.MetadataFields[*events.Event](true)
	ref := func(get func(r api.ObjectReference) string) func(*events.Event) string {
		return func(e *events.Event) string { return get(e.Regarding) }
	}
	for _, prefix := range []string{"regarding.", "involvedObject."} {
		m[prefix+"kind"] = ref(func(r api.ObjectReference) string { return r.Kind })
		m[prefix+"namespace"] = ref(func(r api.ObjectReference) string { return r.Namespace })
		m[prefix+"name"] = ref(func(r api.ObjectReference) string { return r.Name })
		m[prefix+"uid"] = ref(func(r api.ObjectReference) string { return r.UID })
		m[prefix+"apiVersion"] = ref(func(r api.ObjectReference) string { return r.APIVersion })
		m[prefix+"resourceVersion"] = ref(func(r api.ObjectReference) string { return r.ResourceVersion })
		m[prefix+"fieldPath"] = ref(func(r api.ObjectReference) string { return r.FieldPath })
	}
	m["reason"] = func(e *events.Event) string { return e.Reason }
	m["reportingController"] = func(e *events.Event) string { return e.ReportingController }
	m["type"] = func(e *events.Event) string { return e.Type }
	return m
}
