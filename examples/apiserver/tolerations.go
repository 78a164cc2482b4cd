package apiserver

import (
	"context"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Tolerations the DefaultTolerationSeconds plugin adds, Kubernetes'
// defaults (--default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds).
const (
	DefaultNotReadyTolerationSeconds    = 300
	DefaultUnreachableTolerationSeconds = 300
	taintNotReady                       = "node.kubernetes.io/not-ready"
	taintUnreachable                    = "node.kubernetes.io/unreachable"
)

// defaultTolerationSeconds is Kubernetes' DefaultTolerationSeconds
// admission plugin: a pod created without a toleration of the NoExecute
// taint node.kubernetes.io/not-ready (resp. unreachable) gets one,
// operator Exists, tolerationSeconds 300, so the node lifecycle controller
// evicts it five minutes after its node fails rather than at once. A
// toleration with that key (or an empty key) and effect NoExecute (or an
// empty effect) counts as already tolerating. Only creates of pods are
// touched.
type defaultTolerationSeconds struct{}

var _ rest.MutatingAdmission = defaultTolerationSeconds{}

// Name implements rest.AdmissionPlugin.
func (defaultTolerationSeconds) Name() string { return "DefaultTolerationSeconds" }

// Admit adds the missing default tolerations to a pod being created.
func (defaultTolerationSeconds) Admit(_ context.Context, a rest.Attributes) error {
	if a.Verb != "create" || a.Subresource != "" || a.Resource.Name != api.PodResource.Name || a.Resource.APIVersion != api.PodResource.APIVersion {
		return nil
	}
	p, ok := a.Object.(*api.Pod)
	if !ok {
		return nil
	}
	notReady, unreachable := false, false
	for _, t := range p.Spec.Tolerations {
		noExec := t.Effect == api.TaintEffectNoExecute || t.Effect == ""
		notReady = notReady || (noExec && (t.Key == taintNotReady || t.Key == ""))
		unreachable = unreachable || (noExec && (t.Key == taintUnreachable || t.Key == ""))
	}
	add := func(key string, secs int64) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, api.Toleration{Key: key, Operator: api.TolerationOpExists,
			Effect: api.TaintEffectNoExecute, TolerationSeconds: &secs})
	}
	if !notReady {
		add(taintNotReady, DefaultNotReadyTolerationSeconds)
	}
	if !unreachable {
		add(taintUnreachable, DefaultUnreachableTolerationSeconds)
	}
	return nil
}
