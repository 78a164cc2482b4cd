package main

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
)

// hasField reports whether err names field.
func hasField(err error, field string) bool {
	var fe store.FieldErrors
	if !errors.As(err, &fe) {
		return false
	}
	for _, e := range fe {
		if e.Field == field {
			return true
		}
	}
	return false
}

// FuzzNameRulesDifferential: our name, label and port-name rules accept
// exactly what apimachinery's validation accepts.
func FuzzNameRulesDifferential(f *testing.F) {
	for _, s := range []string{"web", "Web", "a.b", "a-", "-a", "9web", "a_b", "example.com/app", "a/b/c", "/a", "x" + string(make([]byte, 70)), "http", "h--p", "123", "abcdefghijklmnop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns := &api.Namespace{}
		ns.Name = s
		if got, want := hasField(registry.NamespaceKind.Validate(ns), "metadata.name"), s == "" || len(validation.IsDNS1123Label(s)) > 0; got != want {
			t.Errorf("namespace name %q: rejected=%v, apimachinery rejects=%v", s, got, want)
		}
		svc := &api.Service{}
		svc.Name, svc.Namespace = s, "default"
		if got, want := hasField(registry.ServiceKind.Validate(svc), "metadata.name"), s == "" || len(validation.IsDNS1035Label(s)) > 0; got != want {
			t.Errorf("service name %q: rejected=%v, apimachinery rejects=%v", s, got, want)
		}
		pod := &api.Pod{}
		pod.Name, pod.Namespace = s, "default"
		pod.Labels = map[string]string{"app": s, s: "v"}
		if got, want := hasField(registry.PodKind.Validate(pod), "metadata.name"), s == "" || len(validation.IsDNS1123Subdomain(s)) > 0; got != want {
			t.Errorf("pod name %q: rejected=%v, apimachinery rejects=%v", s, got, want)
		}
		if got, want := hasField(registry.PodKind.Validate(pod), "metadata.labels[app]"), len(validation.IsValidLabelValue(s)) > 0; got != want {
			t.Errorf("label value %q: rejected=%v, apimachinery rejects=%v", s, got, want)
		}
		if s != "app" {
			if got, want := hasField(registry.PodKind.Validate(pod), "metadata.labels"), len(validation.IsQualifiedName(s)) > 0; got != want {
				t.Errorf("label key %q: rejected=%v, apimachinery rejects=%v", s, got, want)
			}
		}
		pod.Spec.Containers = []api.Container{{Name: "c", Image: "i", ImagePullPolicy: "Always", Ports: []api.ContainerPort{{Name: s, ContainerPort: 80, Protocol: "TCP"}}}}
		if s != "" {
			if got, want := hasField(registry.PodKind.Validate(pod), "spec.containers[0].ports[0].name"), len(validation.IsValidPortName(s)) > 0; got != want {
				t.Errorf("port name %q: rejected=%v, apimachinery rejects=%v", s, got, want)
			}
		}
	})
}
