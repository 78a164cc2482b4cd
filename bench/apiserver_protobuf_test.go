package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
)

const protobufType = "application/vnd.kubernetes.protobuf"

// mediaLog records the media types of every request body and response of
// a client, to check that the default client-go configuration really spoke
// protobuf.
type mediaLog struct {
	mu        sync.Mutex
	requests  map[string]int // request Content-Type (bodies only)
	responses map[string]int // response Content-Type
	statuses  map[int]int
}

func (l *mediaLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		l.mu.Lock()
		defer l.mu.Unlock()
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, _ := mime.ParseMediaType(ct)
			l.requests[mt]++
		}
		if err == nil {
			mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			l.responses[mt]++
			l.statuses[resp.StatusCode]++
		}
		return resp, err
	})
}

// defaultClientConfig starts the example apiserver and returns client-go's
// configuration for it, as a kubeconfig gives it: no content type set, so
// client-go's defaults (protobuf for built-in kinds) apply; the media
// types it sends and receives are logged.
func defaultClientConfig(t *testing.T, ctx context.Context) (*rest.Config, *mediaLog) {
	t.Helper()
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	_, stop, err := startAPIServer(ctx, apiserver.Config{DataDir: dir, Listen: "127.0.0.1:0", KubeconfigOut: kc, EtcdNoFsync: true, EtcdLogLevel: "off"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() })
	data, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	ml := &mediaLog{requests: map[string]int{}, responses: map[string]int{}, statuses: map[int]int{}}
	cfg.Wrap(ml.wrap)
	return cfg, ml
}

// crud creates, gets, lists, updates (a label) and deletes one object
// through a typed client-go interface.
func crud[T metav1.Object, L any](t *testing.T, ctx context.Context, kind string, obj T,
	c interface {
		Create(context.Context, T, metav1.CreateOptions) (T, error)
		Get(context.Context, string, metav1.GetOptions) (T, error)
		List(context.Context, metav1.ListOptions) (L, error)
		Update(context.Context, T, metav1.UpdateOptions) (T, error)
		Delete(context.Context, string, metav1.DeleteOptions) error
	}, count func(L) int) {
	t.Helper()
	created, err := c.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("%s create: %v", kind, err)
	}
	if created.GetUID() == "" || created.GetResourceVersion() == "" {
		t.Fatalf("%s create: no uid or resourceVersion", kind)
	}
	got, err := c.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil || got.GetUID() != created.GetUID() {
		t.Fatalf("%s get: %v", kind, err)
	}
	l, err := c.List(ctx, metav1.ListOptions{})
	if err != nil || count(l) < 1 {
		t.Fatalf("%s list: %v", kind, err)
	}
	got.SetLabels(map[string]string{"updated": "yes"})
	updated, err := c.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || updated.GetLabels()["updated"] != "yes" || updated.GetResourceVersion() == created.GetResourceVersion() {
		t.Fatalf("%s update: %v", kind, err)
	}
	// a stale resourceVersion is a 409 decoded from a protobuf Status
	if _, err := c.Update(ctx, created, metav1.UpdateOptions{}); err == nil {
		t.Fatalf("%s update with a stale resourceVersion: no error", kind)
	}
	uid := updated.GetUID()
	if err := c.Delete(ctx, obj.GetName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
		t.Fatalf("%s delete: %v", kind, err)
	}
}

// TestClientGoProtobuf: client-go with its default configuration speaks
// protobuf to the example apiserver: errors as protobuf Statuses, the
// scale subresource, a merge patch, a list-watch informer that sees a new
// pod, Lease leader election and aggregated discovery (every served
// kind's CRUD and informer: TestClientGoEveryServedKind).
func TestClientGoProtobuf(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg, ml := defaultClientConfig(t, ctx)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
	podSpec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}
	one := int32(1)
	labels := map[string]string{"app": "pb"}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec}
	sel := &metav1.LabelSelector{MatchLabels: labels}

	// (TestClientGoEveryServedKind does typed CRUD and informers for every
	// served kind)
	// the scale subresource and a merge patch, both answered in protobuf
	deps := cs.AppsV1().Deployments("default")
	if _, err := deps.Create(ctx, &appsv1.Deployment{ObjectMeta: om("scaled"), Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: sel, Template: tmpl}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sc, err := deps.GetScale(ctx, "scaled", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 1 {
		t.Fatalf("get scale: %+v %v", sc, err)
	}
	sc.Spec.Replicas = 3
	if _, err := deps.UpdateScale(ctx, "scaled", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update scale: %v", err)
	}
	patched, err := deps.Patch(ctx, "scaled", types.MergePatchType, []byte(`{"metadata":{"labels":{"patched":"yes"}}}`), metav1.PatchOptions{})
	if err != nil || patched.Labels["patched"] != "yes" || *patched.Spec.Replicas != 3 {
		t.Fatalf("patch: %v", err)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get missing: %v, want NotFound", err)
	}

	// a list-watch informer sees a pod created after it synced
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("default"))
	inf := f.Core().V1().Pods().Informer()
	all := []cache.SharedIndexInformer{inf, f.Apps().V1().Deployments().Informer()}
	ictx, icancel := context.WithCancel(ctx)
	f.Start(ictx.Done())
	defer f.Shutdown()
	defer icancel()
	for _, i := range all {
		if !cache.WaitForCacheSync(ctx.Done(), i.HasSynced) {
			t.Fatal("an informer did not sync")
		}
	}
	if _, ok, _ := f.Apps().V1().Deployments().Informer().GetStore().GetByKey("default/scaled"); !ok {
		t.Fatal("the deployments informer does not hold deployment scaled")
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: om("watched"), Spec: podSpec}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the informer to see pod watched", func() bool {
		_, ok, _ := inf.GetStore().GetByKey("default/watched")
		return ok
	})

	// Lease leader election
	lock := &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Name: "pb-election", Namespace: "default"}, Client: cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: "pb-1"}}
	lctx, lcancel := context.WithCancel(ctx)
	led := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		leaderelection.RunOrDie(lctx, leaderelection.LeaderElectionConfig{Lock: lock, LeaseDuration: 15 * time.Second,
			RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second, ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{OnStartedLeading: func(context.Context) { close(led) }, OnStoppedLeading: func() {}}})
	}()
	select {
	case <-led:
	case <-ctx.Done():
		t.Fatal("never became leader")
	}
	l, err := cs.CoordinationV1().Leases("default").Get(ctx, "pb-election", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != "pb-1" {
		t.Fatalf("lease after election: %+v %v", l, err)
	}
	lcancel()
	<-done
	if l, err := cs.CoordinationV1().Leases("default").Get(ctx, "pb-election", metav1.GetOptions{}); err != nil || l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
		t.Fatalf("lease after release: %+v %v", l, err)
	}

	checkAggregatedDiscovery(t, ctx, cs)

	ml.mu.Lock()
	defer ml.mu.Unlock()
	if ml.requests[protobufType] == 0 || ml.requests["application/json"] != 0 {
		t.Errorf("request bodies by media type %v: want protobuf only", ml.requests)
	}
	if ml.responses[protobufType] == 0 || ml.statuses[http.StatusUnsupportedMediaType] != 0 {
		t.Errorf("responses by media type %v, statuses %v: want protobuf and no 415", ml.responses, ml.statuses)
	}
}

// waitFor polls cond until it holds, failing the test when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// checkAggregatedDiscovery: the aggregated discovery document of /api and
// /apis in protobuf decodes with k8s.io/api's generated apidiscovery/v2
// types to what the JSON document says, and lists no empty group.
func checkAggregatedDiscovery(t *testing.T, ctx context.Context, cs *kubernetes.Clientset) {
	t.Helper()
	const as = ";g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	for _, path := range []string{"/api", "/apis"} {
		get := func(accept string) []byte {
			b, err := cs.Discovery().RESTClient().Get().AbsPath(path).SetHeader("Accept", accept).DoRaw(ctx)
			if err != nil {
				t.Fatalf("GET %s as %s: %v", path, accept, err)
			}
			return b
		}
		pb := get(protobufType + as)
		if !bytes.HasPrefix(pb, []byte("k8s\x00")) {
			t.Fatalf("GET %s in protobuf: no envelope: %q", path, pb[:min(len(pb), 16)])
		}
		var unk runtime.Unknown
		if err := unk.Unmarshal(pb[4:]); err != nil {
			t.Fatal(err)
		}
		var fromPB, fromJSON apidiscoveryv2.APIGroupDiscoveryList
		if err := fromPB.Unmarshal(unk.Raw); err != nil {
			t.Fatalf("GET %s: decoding APIGroupDiscoveryList: %v", path, err)
		}
		if err := json.Unmarshal(get("application/json"+as), &fromJSON); err != nil {
			t.Fatal(err)
		}
		fromJSON.TypeMeta = metav1.TypeMeta{}
		if unk.Kind != "APIGroupDiscoveryList" || len(fromPB.Items) == 0 || !apiequality.Semantic.DeepEqual(fromPB, fromJSON) {
			t.Fatalf("GET %s: protobuf (%s) %+v\nJSON %+v", path, unk.Kind, fromPB, fromJSON)
		}
		for _, g := range fromPB.Items {
			if len(g.Versions) == 0 || len(g.Versions[0].Resources) == 0 {
				t.Errorf("GET %s lists group %q with nothing served", path, g.Name)
			}
		}
	}
}
