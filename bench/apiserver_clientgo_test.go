package main

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// TestClientGoAgainstAPIServer: Kubernetes' own client library works
// against the example apiserver (with JSON as the content type): typed
// CRUD, a watch, the scale subresource and a shared informer.
func TestClientGoAgainstAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg, _ := defaultClientConfig(t, ctx)
	// JSON, as a client of custom resources speaks (TestClientGoProtobuf
	// covers the default, protobuf).
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pods := cs.CoreV1().Pods("default")
	w, err := pods.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "cg", Labels: map[string]string{"app": "cg"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Status.Phase != corev1.PodPending || created.UID == "" {
		t.Fatalf("created pod: %+v", created)
	}
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Added || ev.Object.(*corev1.Pod).Name != "cg" {
			t.Fatalf("watch event: %v %T", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("no watch event")
	}
	l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "app=cg"})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("list: %v %v", l, err)
	}
	if _, err := pods.Get(ctx, "missing", metav1.GetOptions{}); err == nil {
		t.Fatal("get missing: no error")
	}
	one := int32(1)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"}, Spec: appsv1.DeploymentSpec{Replicas: &one,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}}
	deps := cs.AppsV1().Deployments("default")
	if _, err := deps.Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	sc, err := deps.GetScale(ctx, "d", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 1 {
		t.Fatalf("get scale: %+v %v", sc, err)
	}
	sc.Spec.Replicas = 4
	if _, err := deps.UpdateScale(ctx, "d", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update scale: %v", err)
	}
	if d, err := deps.Get(ctx, "d", metav1.GetOptions{}); err != nil || *d.Spec.Replicas != 4 {
		t.Fatalf("deployment after scale: %v", err)
	}
	// a shared informer syncs and sees a new pod
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("default"))
	inf := f.Core().V1().Pods().Informer()
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	pod2 := pod.DeepCopy()
	pod2.Name = "cg2"
	if _, err := pods.Create(ctx, pod2, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, ok, _ := inf.GetStore().GetByKey("default/cg2"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client-go informer did not see pod cg2")
		}
	}
	cancel()
	f.Shutdown()
}
