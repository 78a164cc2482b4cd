package apiserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// ServiceAccountTokenMountPath is where the projected token volume is
// mounted in every container, as in Kubernetes.
const ServiceAccountTokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// serviceAccountAdmission is Kubernetes' ServiceAccount admission on pod
// creation: an empty spec.serviceAccountName becomes "default"; unless
// automounting is off (the pod's automountServiceAccountToken, else the
// service account's), the pod gets the projected volume
// kube-api-access-<5 random characters> (a bound service account token
// "token" of 3607 seconds, "ca.crt" from the kube-root-ca.crt ConfigMap,
// and "namespace" from the downward API; mode 0644) mounted read-only at
// ServiceAccountTokenMountPath in every container and init container that
// has nothing mounted there. Mirror pods are left alone.
//
// Unlike Kubernetes, a service account that does not exist is not an
// error here: the token request fails later instead (the default service
// account is created by a controller that may not run).
type serviceAccountAdmission struct {
	accounts *store.Store[*api.ServiceAccount]
}

// Name implements rest.AdmissionPlugin.
func (serviceAccountAdmission) Name() string { return "ServiceAccount" }

var _ rest.MutatingAdmission = serviceAccountAdmission{}

// Admit implements rest.MutatingAdmission.
func (s serviceAccountAdmission) Admit(ctx context.Context, a rest.Attributes) error {
	pod, ok := a.Object.(*api.Pod)
	if !ok || a.Verb != "create" || a.Subresource != "" {
		return nil
	}
	if _, mirror := pod.Annotations["kubernetes.io/config.mirror"]; mirror {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = "default"
	}
	automount := pod.Spec.AutomountServiceAccountToken
	if automount == nil {
		sa, err := s.accounts.Get(ctx, a.Namespace, pod.Spec.ServiceAccountName)
		switch {
		case err == nil:
			automount = sa.AutomountServiceAccountToken
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err)
		}
	}
	if automount != nil && !*automount {
		return nil
	}
	mounted := func(c *api.Container) bool {
		for _, m := range c.VolumeMounts {
			if m.MountPath == ServiceAccountTokenMountPath {
				return true
			}
		}
		return false
	}
	name := "kube-api-access-" + randSuffix(5)
	mount := api.VolumeMount{Name: name, ReadOnly: true, MountPath: ServiceAccountTokenMountPath}
	added := false
	for _, cs := range [][]api.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if !mounted(&cs[i]) {
				cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
				added = true
			}
		}
	}
	if !added {
		return nil
	}
	exp, mode := int64(3607), int32(0o644)
	pod.Spec.Volumes = append(pod.Spec.Volumes, api.Volume{Name: name, VolumeSource: api.VolumeSource{Projected: &api.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []api.VolumeProjection{
			{ServiceAccountToken: &api.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token"}},
			{ConfigMap: &api.ConfigMapProjection{LocalObjectReference: api.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []api.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &api.DownwardAPIProjection{Items: []api.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &api.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}})
	return nil
}

// randSuffix returns n characters of Kubernetes' name-suffix alphabet
// (no vowels, no confusable digits).
func randSuffix(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
