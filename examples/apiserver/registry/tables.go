package registry

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

func col[T store.Object](name, typ string, priority int32, desc string, cell func(T, time.Time) any) table.Column[T] {
	return table.Column[T]{Definition: table.ColumnDefinition{Name: name, Type: typ, Priority: priority, Description: desc}, Cell: cell}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func i64[N ~int32 | ~int64 | ~int](v N) any { return int64(v) }

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

var namespaceTable = table.MustBuilder(
	table.NameColumn[*api.Namespace](),
	col("Status", "string", 0, "The phase of the namespace.", func(n *api.Namespace, _ time.Time) any { return n.Status.Phase }),
	table.AgeColumn[*api.Namespace](),
)

// nodeStatus is "Ready", "NotReady" or "Unknown", plus ",SchedulingDisabled".
func nodeStatus(n *api.Node) string {
	s := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			switch c.Status {
			case api.ConditionTrue:
				s = "Ready"
			case api.ConditionFalse:
				s = "NotReady"
			}
		}
	}
	if n.Spec.Unschedulable {
		s += ",SchedulingDisabled"
	}
	return s
}

// nodeRoles lists roles from node-role.kubernetes.io/<role> and
// kubernetes.io/role labels.
func nodeRoles(n *api.Node) string {
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				roles = append(roles, r)
			}
		case k == "kubernetes.io/role" && v != "":
			roles = append(roles, v)
		}
	}
	sort.Strings(roles)
	return orNone(strings.Join(roles, ","))
}

func nodeAddress(n *api.Node, typ api.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return "<none>"
}

var nodeTable = table.MustBuilder(
	table.NameColumn[*api.Node](),
	col("Status", "string", 0, "The status of the node.", func(n *api.Node, _ time.Time) any { return nodeStatus(n) }),
	col("Roles", "string", 0, "The roles of the node.", func(n *api.Node, _ time.Time) any { return nodeRoles(n) }),
	table.AgeColumn[*api.Node](),
	col("Version", "string", 0, "Kubelet version.", func(n *api.Node, _ time.Time) any { return n.Status.NodeInfo.KubeletVersion }),
	col("Internal-IP", "string", 1, "Internal IP of the node.", func(n *api.Node, _ time.Time) any { return nodeAddress(n, "InternalIP") }),
	col("External-IP", "string", 1, "External IP of the node.", func(n *api.Node, _ time.Time) any { return nodeAddress(n, "ExternalIP") }),
	col("OS-Image", "string", 1, "OS image reported by the node.", func(n *api.Node, _ time.Time) any { return orUnknown(n.Status.NodeInfo.OSImage) }),
	col("Kernel-Version", "string", 1, "Kernel version reported by the node.", func(n *api.Node, _ time.Time) any { return orUnknown(n.Status.NodeInfo.KernelVersion) }),
	col("Container-Runtime", "string", 1, "Container runtime reported by the node.", func(n *api.Node, _ time.Time) any {
		return orUnknown(n.Status.NodeInfo.ContainerRuntimeVersion)
	}),
)

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

// podReady counts ready containers: "1/2".
func podReady(p *api.Pod) string {
	ready := 0
	for _, c := range p.Status.ContainerStatuses {
		if c.Ready {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
}

// podReason is what kubectl prints as a pod's STATUS.
func podReason(p *api.Pod) string {
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	for i, c := range p.Status.InitContainerStatuses {
		switch {
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			continue
		case c.State.Terminated != nil:
			if c.State.Terminated.Reason != "" {
				reason = "Init:" + c.State.Terminated.Reason
			} else {
				reason = fmt.Sprintf("Init:ExitCode:%d", c.State.Terminated.ExitCode)
			}
		case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + c.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
		if p.DeletionTimestamp != nil {
			return "Terminating"
		}
		return reason
	}
	hasRunning := false
	for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
		c := p.Status.ContainerStatuses[i]
		switch {
		case c.State.Waiting != nil && c.State.Waiting.Reason != "":
			reason = c.State.Waiting.Reason
		case c.State.Terminated != nil && c.State.Terminated.Reason != "":
			reason = c.State.Terminated.Reason
		case c.State.Terminated != nil && c.State.Terminated.Signal != 0:
			reason = fmt.Sprintf("Signal:%d", c.State.Terminated.Signal)
		case c.State.Terminated != nil:
			reason = fmt.Sprintf("ExitCode:%d", c.State.Terminated.ExitCode)
		case c.Ready && c.State.Running != nil:
			hasRunning = true
		}
	}
	if reason == "Completed" && hasRunning {
		reason = "Running"
	}
	if p.DeletionTimestamp != nil {
		reason = "Terminating"
	}
	return reason
}

// podRestarts is "N" or "N (age ago)" after the last termination.
func podRestarts(p *api.Pod, now time.Time) string {
	var n int64
	var last time.Time
	for _, c := range p.Status.ContainerStatuses {
		n += int64(c.RestartCount)
		if t := c.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(last) {
			last = t.FinishedAt.Time
		}
	}
	if n > 0 && !last.IsZero() {
		return fmt.Sprintf("%d (%s ago)", n, table.HumanDuration(now.Sub(last)))
	}
	return strconv.FormatInt(n, 10)
}

var podTable = table.MustBuilder(
	table.NameColumn[*api.Pod](),
	col("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic.", func(p *api.Pod, _ time.Time) any { return podReady(p) }),
	col("Status", "string", 0, "The aggregate status of the containers in this pod.", func(p *api.Pod, _ time.Time) any { return podReason(p) }),
	col("Restarts", "string", 0, "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", func(p *api.Pod, now time.Time) any {
		return podRestarts(p, now)
	}),
	table.AgeColumn[*api.Pod](),
	col("IP", "string", 1, "IP address allocated to the pod.", func(p *api.Pod, _ time.Time) any { return orNone(p.Status.PodIP) }),
	col("Node", "string", 1, "Name of the node the pod is assigned to.", func(p *api.Pod, _ time.Time) any { return orNone(p.Spec.NodeName) }),
	col("Nominated Node", "string", 1, "Name of the node nominated to run the pod.", func(p *api.Pod, _ time.Time) any { return "<none>" }),
	col("Readiness Gates", "string", 1, "Pod readiness gates.", func(p *api.Pod, _ time.Time) any { return "<none>" }),
).WithRowConditions(func(p *api.Pod) []table.RowCondition {
	if p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed {
		return []table.RowCondition{{Type: "Completed", Status: string(api.ConditionTrue), Reason: string(p.Status.Phase), Message: "The pod has completed successfully."}}
	}
	return nil
})

func servicePorts(s *api.Service) string {
	if len(s.Spec.Ports) == 0 {
		return "<none>"
	}
	parts := make([]string, len(s.Spec.Ports))
	for i, p := range s.Spec.Ports {
		if p.NodePort != 0 {
			parts[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			parts[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(parts, ",")
}

func labelsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return orNone(strings.Join(parts, ","))
}

var serviceTable = table.MustBuilder(
	table.NameColumn[*api.Service](),
	col("Type", "string", 0, "The type of the service.", func(s *api.Service, _ time.Time) any { return s.Spec.Type }),
	col("Cluster-IP", "string", 0, "The cluster IP of the service.", func(s *api.Service, _ time.Time) any { return orNone(s.Spec.ClusterIP) }),
	col("External-IP", "string", 0, "The external IPs of the service.", func(s *api.Service, _ time.Time) any { return orNone(strings.Join(s.Spec.ExternalIPs, ",")) }),
	col("Port(s)", "string", 0, "The ports of the service.", func(s *api.Service, _ time.Time) any { return servicePorts(s) }),
	table.AgeColumn[*api.Service](),
	col("Selector", "string", 1, "The label selector of the service.", func(s *api.Service, _ time.Time) any { return labelsText(s.Spec.Selector) }),
)

// endpointsText lists up to three ip:port pairs, then "+ N more...".
func endpointsText(e *api.Endpoints) string {
	var list []string
	total := 0
	for _, s := range e.Subsets {
		for _, a := range s.Addresses {
			if len(s.Ports) == 0 {
				total++
				if len(list) < 3 {
					list = append(list, a.IP)
				}
			}
			for _, p := range s.Ports {
				total++
				if len(list) < 3 {
					list = append(list, fmt.Sprintf("%s:%d", a.IP, p.Port))
				}
			}
		}
	}
	out := orNone(strings.Join(list, ","))
	if total > len(list) {
		out += fmt.Sprintf(" + %d more...", total-len(list))
	}
	return out
}

var endpointsTable = table.MustBuilder(
	table.NameColumn[*api.Endpoints](),
	col("Endpoints", "string", 0, "Endpoints of the service.", func(e *api.Endpoints, _ time.Time) any { return endpointsText(e) }),
	table.AgeColumn[*api.Endpoints](),
)

func eventLastSeen(e *api.Event, now time.Time) string {
	switch {
	case !e.LastTimestamp.IsZero():
		return table.HumanDuration(now.Sub(e.LastTimestamp.Time))
	case !e.EventTime.IsZero():
		return table.HumanDuration(now.Sub(e.EventTime.Time))
	}
	return "<unknown>"
}

var eventTable = table.MustBuilder(
	col("Last Seen", "string", 0, "Time since the event was last seen.", func(e *api.Event, now time.Time) any { return eventLastSeen(e, now) }),
	col("Type", "string", 0, "Type of the event (Normal or Warning).", func(e *api.Event, _ time.Time) any { return e.Type }),
	col("Reason", "string", 0, "Why the event happened.", func(e *api.Event, _ time.Time) any { return e.Reason }),
	col("Object", "string", 0, "The object the event is about.", func(e *api.Event, _ time.Time) any {
		return strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
	}),
	col("Message", "string", 0, "A human-readable description.", func(e *api.Event, _ time.Time) any { return strings.TrimSpace(e.Message) }),
	col("Source", "string", 1, "The component that reported the event.", func(e *api.Event, _ time.Time) any {
		if e.Source.Host != "" {
			return e.Source.Component + ", " + e.Source.Host
		}
		return e.Source.Component
	}),
	col("First Seen", "string", 1, "Time since the event was first seen.", func(e *api.Event, now time.Time) any { return table.Age(e.FirstTimestamp, now) }),
	col("Count", "integer", 1, "How many times the event happened.", func(e *api.Event, _ time.Time) any { return i64(e.Count) }),
	table.Column[*api.Event]{Definition: table.ColumnDefinition{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: "Name of the event."},
		Cell: func(e *api.Event, _ time.Time) any { return e.Name }},
)

var leaseTable = table.MustBuilder(
	table.NameColumn[*election.Lease](),
	col("Holder", "string", 0, "The holder of the lease.", func(l *election.Lease, _ time.Time) any {
		if l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}),
	table.AgeColumn[*election.Lease](),
)

// quotaText prints "name: used/hard" pairs for the names accepted by keep.
func quotaText(q *api.ResourceQuota, keep func(string) bool) string {
	names := make([]api.ResourceName, 0, len(q.Spec.Hard))
	for n := range q.Spec.Hard {
		if keep(string(n)) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		used := q.Status.Used[n]
		hard := q.Spec.Hard[n]
		parts[i] = fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
	}
	return strings.Join(parts, ", ")
}

var resourceQuotaTable = table.MustBuilder(
	table.NameColumn[*api.ResourceQuota](),
	table.AgeColumn[*api.ResourceQuota](),
	col("Request", "string", 0, "Used and hard limits of everything but limits.*.", func(q *api.ResourceQuota, _ time.Time) any {
		return quotaText(q, func(n string) bool { return !strings.HasPrefix(n, "limits.") })
	}),
	col("Limit", "string", 0, "Used and hard limits of limits.*.", func(q *api.ResourceQuota, _ time.Time) any {
		return quotaText(q, func(n string) bool { return strings.HasPrefix(n, "limits.") })
	}),
)

func containerNames(s *api.PodSpec) string {
	names := make([]string, len(s.Containers))
	for i, c := range s.Containers {
		names[i] = c.Name
	}
	return strings.Join(names, ",")
}

func containerImages(s *api.PodSpec) string {
	images := make([]string, len(s.Containers))
	for i, c := range s.Containers {
		images[i] = c.Image
	}
	return strings.Join(images, ",")
}

func selectorText(s *api.LabelSelector) string {
	if s == nil {
		return "<none>"
	}
	t, err := s.SelectorString()
	if err != nil {
		return "<error>"
	}
	return orNone(t)
}

var replicaSetTable = table.MustBuilder(
	table.NameColumn[*apps.ReplicaSet](),
	col("Desired", "integer", 0, "Number of desired pods.", func(r *apps.ReplicaSet, _ time.Time) any { return i64(deref(r.Spec.Replicas)) }),
	col("Current", "integer", 0, "Number of actual pods.", func(r *apps.ReplicaSet, _ time.Time) any { return i64(r.Status.Replicas) }),
	col("Ready", "integer", 0, "Number of ready pods.", func(r *apps.ReplicaSet, _ time.Time) any { return i64(r.Status.ReadyReplicas) }),
	table.AgeColumn[*apps.ReplicaSet](),
	col("Containers", "string", 1, "Names of each container in the template.", func(r *apps.ReplicaSet, _ time.Time) any { return containerNames(&r.Spec.Template.Spec) }),
	col("Images", "string", 1, "Images referenced by each container in the template.", func(r *apps.ReplicaSet, _ time.Time) any { return containerImages(&r.Spec.Template.Spec) }),
	col("Selector", "string", 1, "The label selector.", func(r *apps.ReplicaSet, _ time.Time) any { return selectorText(r.Spec.Selector) }),
)

var deploymentTable = table.MustBuilder(
	table.NameColumn[*apps.Deployment](),
	col("Ready", "string", 0, "Number of the pod with ready state.", func(d *apps.Deployment, _ time.Time) any {
		return fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, deref(d.Spec.Replicas))
	}),
	col("Up-to-date", "integer", 0, "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", func(d *apps.Deployment, _ time.Time) any {
		return i64(d.Status.UpdatedReplicas)
	}),
	col("Available", "integer", 0, "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", func(d *apps.Deployment, _ time.Time) any {
		return i64(d.Status.AvailableReplicas)
	}),
	table.AgeColumn[*apps.Deployment](),
	col("Containers", "string", 1, "Names of each container in the template.", func(d *apps.Deployment, _ time.Time) any { return containerNames(&d.Spec.Template.Spec) }),
	col("Images", "string", 1, "Images referenced by each container in the template.", func(d *apps.Deployment, _ time.Time) any { return containerImages(&d.Spec.Template.Spec) }),
	col("Selector", "string", 1, "The label selector.", func(d *apps.Deployment, _ time.Time) any { return selectorText(d.Spec.Selector) }),
)

var statefulSetTable = table.MustBuilder(
	table.NameColumn[*apps.StatefulSet](),
	col("Ready", "string", 0, "Number of the pod with ready state.", func(s *apps.StatefulSet, _ time.Time) any {
		return fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, deref(s.Spec.Replicas))
	}),
	table.AgeColumn[*apps.StatefulSet](),
	col("Containers", "string", 1, "Names of each container in the template.", func(s *apps.StatefulSet, _ time.Time) any { return containerNames(&s.Spec.Template.Spec) }),
	col("Images", "string", 1, "Images referenced by each container in the template.", func(s *apps.StatefulSet, _ time.Time) any { return containerImages(&s.Spec.Template.Spec) }),
)

var daemonSetTable = table.MustBuilder(
	table.NameColumn[*apps.DaemonSet](),
	col("Desired", "integer", 0, "The desired number of daemon pods.", func(d *apps.DaemonSet, _ time.Time) any { return i64(d.Status.DesiredNumberScheduled) }),
	col("Current", "integer", 0, "The number of nodes running at least one daemon pod.", func(d *apps.DaemonSet, _ time.Time) any { return i64(d.Status.CurrentNumberScheduled) }),
	col("Ready", "integer", 0, "The number of nodes with a ready daemon pod.", func(d *apps.DaemonSet, _ time.Time) any { return i64(d.Status.NumberReady) }),
	col("Up-to-date", "integer", 0, "The number of nodes running the updated daemon pod.", func(d *apps.DaemonSet, _ time.Time) any { return i64(d.Status.UpdatedNumberScheduled) }),
	col("Available", "integer", 0, "The number of nodes with an available daemon pod.", func(d *apps.DaemonSet, _ time.Time) any { return i64(d.Status.NumberAvailable) }),
	col("Node Selector", "string", 0, "The node selector of the pod template.", func(d *apps.DaemonSet, _ time.Time) any { return labelsText(d.Spec.Template.Spec.NodeSelector) }),
	table.AgeColumn[*apps.DaemonSet](),
	col("Containers", "string", 1, "Names of each container in the template.", func(d *apps.DaemonSet, _ time.Time) any { return containerNames(&d.Spec.Template.Spec) }),
	col("Images", "string", 1, "Images referenced by each container in the template.", func(d *apps.DaemonSet, _ time.Time) any { return containerImages(&d.Spec.Template.Spec) }),
	col("Selector", "string", 1, "The label selector.", func(d *apps.DaemonSet, _ time.Time) any { return selectorText(d.Spec.Selector) }),
)
