package registry

import (
	"encoding/json"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

func TestRegistryLookup(t *testing.T) {
	cases := map[string]string{
		"po": "pods", "pod": "pods", "pods": "pods", "Pod": "pods",
		"svc": "services", "no": "nodes", "ns": "namespaces", "deploy": "deployments",
		"deployments.apps": "deployments", "rs": "replicasets", "sts": "statefulsets",
		"ds": "daemonsets", "ep": "endpoints", "ev": "events", "lease": "leases",
		"leases.coordination.k8s.io": "leases", "quota": "resourcequotas",
	}
	for in, want := range cases {
		d, ok := Lookup(in)
		if !ok || d.Resource().Name != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", in, d, ok, want)
		}
	}
	for _, bad := range []string{"", "widgets", "pods.apps", "deploy.core"} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found something", bad)
		}
	}
	if d, ok := LookupResource("apps/v1", "deployments"); !ok || d.Resource().Kind != "Deployment" {
		t.Error("LookupResource apps/v1 deployments")
	}
	if _, ok := LookupResource("v1", "deployments"); ok {
		t.Error("deployments are not in the core group")
	}
}

func TestRegistryContents(t *testing.T) {
	kinds := Kinds()
	if len(kinds) != 33 {
		t.Fatalf("%d kinds", len(kinds))
	}
	seen := map[string]bool{}
	for _, d := range kinds {
		r := d.Resource()
		if seen[r.APIVersion+"/"+r.Name] {
			t.Errorf("duplicate %s", r.Name)
		}
		seen[r.APIVersion+"/"+r.Name] = true
		obj := d.NewObject()
		if tm := obj.GetTypeMeta(); tm.Kind != r.Kind || tm.APIVersion != r.APIVersion {
			t.Errorf("%s: NewObject TypeMeta = %+v", r.Name, tm)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		if d.ListKind() != r.Kind+"List" || d.PatchSchema() == nil || len(d.TableColumns()) == 0 || d.Singular() == "" {
			t.Errorf("%s: incomplete descriptor", r.Name)
		}
		labels := d.FieldLabels()
		if !containsString(labels, "metadata.name") || containsString(labels, "metadata.namespace") != r.Namespaced {
			t.Errorf("%s: field labels %v", r.Name, labels)
		}
		if err := d.DefaultObject(obj); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		// an empty object is never valid: it has no name
		if err := d.ValidateObject(obj); err == nil {
			t.Errorf("%s: empty object validated", r.Name)
		}
	}
	if groupOf(kinds[0].Resource()) != "" || groupOf(kinds[len(kinds)-1].Resource()) != "storage.k8s.io" {
		t.Error("Kinds not sorted by group")
	}
	if g, v := GroupVersion(DeploymentKind.Resource()); g != "apps" || v != "v1" {
		t.Error("Group/Version")
	}
	if g, v := GroupVersion(PodKind.Resource()); g != "" || v != "v1" {
		t.Error("Group/Version")
	}
	if !PodKind.HasSubresource("binding") || !PodKind.HasStatus() || DaemonSetKind.HasSubresource("scale") || !DeploymentKind.HasSubresource("scale") {
		t.Error("subresources")
	}
}

func TestScaleSubresource(t *testing.T) {
	d := loadFixture[apps.Deployment](t, "deployment.json")
	s, ok := DeploymentKind.Scale(d)
	if !ok {
		t.Fatal("no scale")
	}
	want := loadFixture[autoscaling.Scale](t, "scale.json")
	want.Spec.Replicas = 3
	if !deepEqual(s, want) {
		a, _ := json.Marshal(s)
		b, _ := json.Marshal(want)
		t.Fatalf("scale:\n%s\nwant\n%s", a, b)
	}
	if !DeploymentKind.SetReplicas(d, 7) || *d.Spec.Replicas != 7 {
		t.Fatal("SetReplicas")
	}
	if _, ok := DaemonSetKind.Scale(&apps.DaemonSet{}); ok {
		t.Fatal("daemon sets have no scale")
	}
	if DaemonSetKind.SetReplicas(&apps.DaemonSet{}, 1) {
		t.Fatal("daemon sets have no replicas")
	}
	for _, k := range []interface {
		Scale(*apps.ReplicaSet) (*autoscaling.Scale, bool)
	}{ReplicaSetKind} {
		if s, ok := k.Scale(&apps.ReplicaSet{Spec: apps.ReplicaSetSpec{Replicas: ptr(int32(2))}}); !ok || s.Spec.Replicas != 2 {
			t.Fatal("replicaset scale")
		}
	}
	if s, ok := StatefulSetKind.Scale(&apps.StatefulSet{Status: apps.StatefulSetStatus{Replicas: 4}}); !ok || s.Status.Replicas != 4 || s.Spec.Replicas != 0 {
		t.Fatal("statefulset scale")
	}
}

func TestCopyAndClearStatus(t *testing.T) {
	src := loadFixture[api.Pod](t, "pod.json")
	dst := &api.Pod{}
	PodKind.copyStatus(dst, src)
	if !deepEqual(dst.Status, src.Status) {
		t.Fatal("status not copied")
	}
	dst.Status.PodIPs[0].IP = "changed"
	if src.Status.PodIPs[0].IP == "changed" {
		t.Fatal("copyStatus shares memory")
	}
	PodKind.clearStatus(dst)
	if !deepEqual(dst.Status, api.PodStatus{}) {
		t.Fatal("status not cleared")
	}
	// kinds without status: no-op, no panic
	EndpointsKind.copyStatus(&api.Endpoints{}, &api.Endpoints{})
	LeaseKind.clearStatus(&election.Lease{})
}

// kubectl apply on a served type: change one container's image by name
// and drop a label, through the Deployment schema.
func TestStrategicPatchOnDeploymentSchema(t *testing.T) {
	d := loadFixture[apps.Deployment](t, "deployment.json")
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, api.Container{Name: "log", Image: "busybox:1"})
	doc, _ := json.Marshal(d)
	p := `{"metadata":{"annotations":{"deployment.kubernetes.io/revision":null}},
	  "spec":{"replicas":5,"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"log"}],
	  "containers":[{"name":"log","image":"busybox:2"}]}}}}`
	out, err := patch.StrategicMergePatch(doc, []byte(p), DeploymentKind.PatchSchema())
	if err != nil {
		t.Fatal(err)
	}
	var got apps.Deployment
	if err := decodeStrict(out, &got); err != nil {
		t.Fatal(err)
	}
	cs := got.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[0].Image != "nginx:1.27" || cs[0].Ports[0].ContainerPort != 80 || cs[1].Image != "busybox:2" {
		t.Fatalf("containers: %+v", cs)
	}
	if *got.Spec.Replicas != 5 || len(got.Annotations) != 0 || got.Status.ReadyReplicas != 2 {
		t.Fatalf("patched deployment: %+v", got)
	}
	// kubectl scale's patch
	out, err = patch.MergePatch(doc, []byte(`{"spec":{"replicas":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	var scaled apps.Deployment
	if err := decodeStrict(out, &scaled); err != nil || *scaled.Spec.Replicas != 1 {
		t.Fatalf("scaled: %v %v", err, scaled.Spec.Replicas)
	}
	// schema tags: containers merge by name, ports by containerPort,
	// tolerations replace, finalizers merge
	spec := PodKind.PatchSchema().Field("spec").Schema
	if f := spec.Field("containers"); !f.Merge || f.MergeKey != "name" {
		t.Error("containers tag")
	}
	if f := spec.Field("containers").Schema.Elem().Field("ports"); !f.Merge || f.MergeKey != "containerPort" {
		t.Error("ports tag")
	}
	if f := spec.Field("tolerations"); f.Merge {
		t.Error("tolerations must be replaced")
	}
	if f := PodKind.PatchSchema().Field("metadata").Schema.Field("ownerReferences"); !f.Merge || f.MergeKey != "uid" {
		t.Error("ownerReferences tag")
	}
	if f := NodeKind.PatchSchema().Field("status").Schema.Field("conditions"); !f.Merge || f.MergeKey != "type" {
		t.Error("node conditions tag")
	}
}

var _ store.Object = (*api.Pod)(nil)

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPrepareForCreateAndUpdate(t *testing.T) {
	p := loadFixture[api.Pod](t, "pod.json")
	prepareCreate(PodKind, p)
	if !deepEqual(p.Status, api.PodStatus{Phase: api.PodPending, QOSClass: api.PodQOSBurstable}) {
		t.Fatalf("pod status on create: %+v", p.Status)
	}
	n := loadFixture[api.Node](t, "node.json")
	want := n.Status
	prepareCreate(NodeKind, n)
	if !deepEqual(n.Status, want) {
		t.Fatal("node status must be kept on create")
	}
	ns := loadFixture[api.Namespace](t, "namespace.json")
	prepareCreate(NamespaceKind, ns)
	if ns.Status.Phase != api.NamespaceActive {
		t.Fatal("namespace starts Active")
	}
	d := loadFixture[apps.Deployment](t, "deployment.json")
	prepareCreate(DeploymentKind, d)
	if !deepEqual(d.Status, apps.DeploymentStatus{}) {
		t.Fatal("deployment status not cleared")
	}
	ep := loadFixture[api.Endpoints](t, "endpoints.json")
	before := ep.DeepCopy()
	prepareCreate(EndpointsKind, ep)
	if !deepEqual(ep, before) {
		t.Fatal("endpoints have no status to reset")
	}

	old := loadFixture[apps.Deployment](t, "deployment.json")
	upd := old.DeepCopy()
	upd.Spec.Replicas = ptr(int32(9))
	upd.Status.ReadyReplicas = 99
	prepareUpdate(DeploymentKind, upd, old)
	if *upd.Spec.Replicas != 9 || upd.Status.ReadyReplicas != 2 {
		t.Fatal("main-resource update must keep the stored status")
	}

	st := old.DeepCopy()
	st.ResourceVersion = "77"
	st.Spec.Replicas = ptr(int32(1))
	st.Labels = map[string]string{"sneaky": "x"}
	st.Status.ReadyReplicas = 3
	out := DeploymentKind.Strategy().(rest.StatusPreparer[*apps.Deployment]).PrepareForStatusUpdate(st, old)
	if out.Status.ReadyReplicas != 3 || *out.Spec.Replicas != 3 || out.Labels != nil || out.ResourceVersion != "77" {
		t.Fatalf("status update: %+v", out)
	}
	if out == old || old.Status.ReadyReplicas != 2 {
		t.Fatal("PrepareForStatusUpdate modified the stored object")
	}
}

func prepareCreate[T store.Object](k *Kind[T], obj T) {
	k.Strategy().(rest.CreatePreparer[T]).PrepareForCreate(obj)
}

func prepareUpdate[T store.Object](k *Kind[T], obj, old T) {
	k.Strategy().(rest.UpdatePreparer[T]).PrepareForUpdate(obj, old)
}

// TestStrategyPieces: a kind's strategy offers the status and scale
// pieces exactly when the kind has those subresources, so the REST handler
// serves no others; every strategy prepares, filters, renders and patches.
func TestStrategyPieces(t *testing.T) {
	for _, d := range Kinds() {
		s := d.(interface{ strategyAny() any }).strategyAny()
		name := d.Resource().Name
		status := hasMethod(s, "PrepareForStatusUpdate")
		if want := containsString(d.Subresources(), "status"); status != want {
			t.Errorf("%s: status piece %v, want %v", name, status, want)
		}
		if got, want := hasMethod(s, "Scale") && hasMethod(s, "SetReplicas"), containsString(d.Subresources(), "scale"); got != want {
			t.Errorf("%s: scale piece %v, want %v", name, got, want)
		}
		// binding and eviction are the apiserver's routes; the others the
		// strategy's
		var others []string
		for _, sub := range d.Subresources() {
			if sub != "status" && sub != "scale" && sub != "binding" && sub != "eviction" {
				others = append(others, sub)
			}
		}
		if hasMethod(s, "UpdateSubresources") != (len(others) > 0) {
			t.Errorf("%s: subresource piece for %v", name, others)
		} else if len(others) > 0 {
			if got := s.(interface{ UpdateSubresources() []string }).UpdateSubresources(); !reflect.DeepEqual(got, others) {
				t.Errorf("%s: strategy serves %v, want %v", name, got, others)
			}
		}
		for _, m := range []string{"Default", "Validate", "ValidateUpdate", "PrepareForCreate", "PrepareForUpdate", "FieldFilter", "Table", "PatchSchema"} {
			if !hasMethod(s, m) {
				t.Errorf("%s: strategy lacks %s", name, m)
			}
		}
	}
	if _, ok := PodKind.Strategy().(rest.Scaler[*api.Pod]); ok {
		t.Error("pods have no scale subresource")
	}
	if _, ok := DeploymentKind.Strategy().(rest.Scaler[*apps.Deployment]); !ok {
		t.Error("deployments have a scale subresource")
	}
	if _, ok := EndpointsKind.Strategy().(rest.StatusPreparer[*api.Endpoints]); ok {
		t.Error("endpoints have no status subresource")
	}
}

// strategyAny returns the kind's strategy, untyped (for tests over every
// kind).
func (k *Kind[T]) strategyAny() any { return k.Strategy() }

func hasMethod(v any, name string) bool {
	_, ok := reflect.TypeOf(v).MethodByName(name)
	return ok
}

// Many goroutines read schemas, validate and build strategies at once;
// every result equals the single-threaded one (the schema caches are
// shared).
func TestConcurrentSchemaValidate(t *testing.T) {
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				k := Kinds()[(g+i)%len(Kinds())]
				if k.PatchSchema().Field("metadata") == nil {
					bad.Add(1)
				}
				if err := PodKind.Strategy().Validate(validPod()); err != nil {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d concurrent schema reads or validations went wrong", n)
	}
}
