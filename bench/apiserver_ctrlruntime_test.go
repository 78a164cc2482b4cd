package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// replicaSetOwner is a reconciler in the shape of a typical operator: for
// every Deployment it keeps one owned ReplicaSet (created, then updated to
// carry the Deployment's replicas) and reports progress in the
// Deployment's status with a patch of the status subresource.
type replicaSetOwner struct {
	client.Client
	scheme *runtime.Scheme
}

func (r *replicaSetOwner) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var d appsv1.Deployment
	if err := r.Get(ctx, req.NamespacedName, &d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-owned", Namespace: d.Namespace}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, rs, func() error {
		rs.Spec.Replicas = d.Spec.Replicas
		rs.Spec.Selector = d.Spec.Selector
		rs.Spec.Template = d.Spec.Template
		if rs.Labels == nil {
			rs.Labels = map[string]string{}
		}
		rs.Labels["replicas"] = fmt.Sprint(*d.Spec.Replicas)
		return controllerutil.SetControllerReference(&d, rs, r.scheme)
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Status.ObservedGeneration = d.Generation
	d.Status.Replicas = *d.Spec.Replicas
	if err := r.Status().Patch(ctx, &d, patch); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// TestControllerRuntimeProtobuf: a controller-runtime manager with default
// options (client-go's protobuf for built-in kinds) and leader election
// on a Lease runs a reconciler that creates and updates owned ReplicaSets
// and patches the owner's status, against the example apiserver.
func TestControllerRuntimeProtobuf(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg, ml := defaultClientConfig(t, ctx)
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, LeaderElection: true, LeaderElectionID: "cr-test",
		LeaderElectionNamespace: "default", Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		t.Fatal(err)
	}
	rec := &replicaSetOwner{Client: mgr.GetClient(), scheme: scheme}
	if err := ctrl.NewControllerManagedBy(mgr).For(&appsv1.Deployment{}).Owns(&appsv1.ReplicaSet{}).Complete(rec); err != nil {
		t.Fatal(err)
	}
	mctx, mcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() {
		mcancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	select {
	case <-mgr.Elected():
	case <-ctx.Done():
		t.Fatal("the manager never became leader")
	}

	c := mgr.GetClient()
	two := int32(2)
	labels := map[string]string{"app": "cr"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cr", Namespace: "default"}, Spec: appsv1.DeploymentSpec{Replicas: &two,
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	owned := func(replicas string) func() bool {
		return func() bool {
			var rs appsv1.ReplicaSet
			if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "cr-owned"}, &rs); err != nil {
				if !apierrors.IsNotFound(err) {
					t.Errorf("get owned: %v", err)
				}
				return false
			}
			var got appsv1.Deployment
			if err := c.Get(ctx, client.ObjectKeyFromObject(d), &got); err != nil {
				t.Errorf("get deployment: %v", err)
				return false
			}
			ref := metav1.GetControllerOf(&rs)
			return ref != nil && ref.UID == got.UID && rs.Labels["replicas"] == replicas &&
				got.Status.ObservedGeneration == got.Generation && fmt.Sprint(got.Status.Replicas) == replicas
		}
	}
	waitFor(t, ctx, "the owned ReplicaSet and the status patch", owned("2"))

	// an update of the owner is reconciled into the owned object
	var cur appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKeyFromObject(d), &cur); err != nil {
		t.Fatal(err)
	}
	five := int32(5)
	cur.Spec.Replicas = &five
	if err := c.Update(ctx, &cur); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the owned ReplicaSet to follow the update", owned("5"))

	// the manager holds the Lease
	var lease coordinationv1.Lease
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "cr-test"}, &lease); err != nil ||
		lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Errorf("leader election lease: %+v %v", lease.Spec, err)
	}
	ml.mu.Lock()
	defer ml.mu.Unlock()
	if ml.requests[protobufType] == 0 || ml.statuses[http.StatusUnsupportedMediaType] != 0 || ml.statuses[http.StatusNotAcceptable] != 0 {
		t.Errorf("request bodies %v, statuses %v: want protobuf bodies and no 415 or 406", ml.requests, ml.statuses)
	}
}
