package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// podGraph is the Node authorizer's view of pods: an informer cache
// indexed by spec.nodeName.
type podGraph struct {
	inf *informer.Informer[*api.Pod]
}

var _ authz.Pods = (*podGraph)(nil)

func newPodGraph(pods *store.Store[*api.Pod], log *slog.Logger) (*podGraph, error) {
	inf, err := informer.New[*api.Pod](pods, informer.Config[*api.Pod]{Name: "node-authorizer-pods", Logger: log,
		Indexers: map[string]informer.IndexFunc[*api.Pod]{"node": func(p *api.Pod) []string {
			if p.Spec.NodeName == "" {
				return nil
			}
			return []string{p.Spec.NodeName}
		}}})
	if err != nil {
		return nil, err
	}
	return &podGraph{inf: inf}, nil
}

// OnNode implements authz.Pods.
func (g *podGraph) OnNode(node string) []*api.Pod {
	out, _ := g.inf.ByIndex("node", node)
	return out
}

// Pod implements authz.Pods.
func (g *podGraph) Pod(ns, name string) (*api.Pod, bool) { return g.inf.Get(ns, name) }

// MirrorPodAnnotation marks a pod a kubelet created for a static pod.
const MirrorPodAnnotation = "kubernetes.io/config.mirror"

// NodeRestrictionLabelPrefix is the label domain kubelets may not set on
// their own Node: labels under it are the administrator's, so workloads
// can be placed on nodes by labels a compromised kubelet cannot claim.
const NodeRestrictionLabelPrefix = "node-restriction.kubernetes.io/"

// kubeletLabels are the kubernetes.io and k8s.io labels a kubelet may set
// on its Node (besides the kubelet.kubernetes.io/ and
// node.kubernetes.io/ domains), as Kubernetes' NodeRestriction allows.
var kubeletLabels = []string{"kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os",
	"beta.kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/instance-type",
	"failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
	"topology.kubernetes.io/region", "topology.kubernetes.io/zone", "node.kubernetes.io/instance-type"}

// kubeletMaySetLabel reports whether a kubelet may set label key on its
// Node.
func kubeletMaySetLabel(key string) bool {
	domain, _, ok := strings.Cut(key, "/")
	if !ok {
		return true
	}
	if slices.Contains(kubeletLabels, key) {
		return true
	}
	for _, d := range []string{"kubelet.kubernetes.io", "node.kubernetes.io"} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	for _, d := range []string{"kubernetes.io", "k8s.io"} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return false
		}
	}
	return true
}

// nodeRestriction is Kubernetes' NodeRestriction admission plugin for
// kubelets: a kubelet may create only mirror pods bound to its own node,
// and may not add, change or remove its Node's labels under
// node-restriction.kubernetes.io/ (nor kubernetes.io and k8s.io labels
// outside the kubelet's set). The authorizer has already limited which
// objects it may write at all.
type nodeRestriction struct{}

var _ rest.ValidatingAdmission = nodeRestriction{}

// Name implements rest.AdmissionPlugin.
func (nodeRestriction) Name() string { return "NodeRestriction" }

// Validate implements rest.ValidatingAdmission.
func (nodeRestriction) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	u := UserFrom(ctx)
	if u == nil {
		return write(ctx)
	}
	node, ok := authz.NodeName(u)
	if !ok {
		return write(ctx)
	}
	deny := func(msg string) error {
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, msg)
	}
	switch o := a.Object.(type) {
	case *api.Pod:
		if a.Verb == "create" && a.Subresource == "" {
			if _, ok := o.Annotations[MirrorPodAnnotation]; !ok {
				return deny(fmt.Sprintf("pod does not have %q annotation, node %q can only create mirror pods", MirrorPodAnnotation, node))
			}
			if o.Spec.NodeName != node {
				return deny(fmt.Sprintf("node %q can only create pods with spec.nodeName set to itself", node))
			}
		}
	case *api.Node:
		if a.Verb == "delete" {
			break
		}
		var old map[string]string
		if on, ok := a.OldObject.(*api.Node); ok && on != nil {
			old = on.Labels
		}
		var bad []string
		for _, k := range changedLabels(old, o.Labels) {
			if strings.HasPrefix(k, NodeRestrictionLabelPrefix) || !kubeletMaySetLabel(k) {
				bad = append(bad, k)
			}
		}
		if len(bad) > 0 {
			slices.Sort(bad)
			return deny(fmt.Sprintf("node %q is not allowed to modify labels: %s", node, strings.Join(bad, ", ")))
		}
	}
	return write(ctx)
}

// changedLabels returns the keys added, changed or removed.
func changedLabels(old, new map[string]string) []string {
	var out []string
	for k, v := range new {
		if ov, ok := old[k]; !ok || ov != v {
			out = append(out, k)
		}
	}
	for k := range old {
		if _, ok := new[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}
