package plugins

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

// fakeVolumes is a VolumeClient over maps; its writes are recorded.
type fakeVolumes struct {
	claims  map[string]*api.PersistentVolumeClaim
	vols    []*api.PersistentVolume
	classes map[string]*storage.StorageClass
	nodes   map[string]*api.Node
	writes  []string
}

func (f *fakeVolumes) Claim(ns, name string) (*api.PersistentVolumeClaim, bool) {
	c, ok := f.claims[ns+"/"+name]
	return c, ok
}
func (f *fakeVolumes) Volumes() []*api.PersistentVolume { return f.vols }
func (f *fakeVolumes) Node(name string) (*api.Node, bool) {
	n, ok := f.nodes[name]
	return n, ok
}
func (f *fakeVolumes) StorageClass(name string) (*storage.StorageClass, bool) {
	c, ok := f.classes[name]
	return c, ok
}
func (f *fakeVolumes) BindVolume(_ context.Context, pv *api.PersistentVolume, c *api.PersistentVolumeClaim) error {
	f.writes = append(f.writes, "bind "+pv.Name+" "+claimKey(c))
	return nil
}
func (f *fakeVolumes) SetSelectedNode(_ context.Context, c *api.PersistentVolumeClaim, node string) error {
	f.writes = append(f.writes, "select "+claimKey(c)+" "+node)
	return nil
}
func (f *fakeVolumes) WaitBound(_ context.Context, ns, name string) error {
	f.writes = append(f.writes, "wait "+ns+"/"+name)
	return nil
}

func tclaim(name, class, size string, bound string) *api.PersistentVolumeClaim {
	c := &api.PersistentVolumeClaim{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: name, UID: "uid-" + name}}
	if class != "-" {
		c.Spec.StorageClassName = &class
	}
	c.Spec.AccessModes = []api.PersistentVolumeAccessMode{api.ReadWriteOnce}
	c.Spec.Resources.Requests = api.ResourceList{api.ResourceStorage: api.MustParse(size)}
	c.Spec.VolumeName = bound
	return c
}

// tvol is a local volume of class on host ("" = no node affinity).
func tvol(name, class, size, host string) *api.PersistentVolume {
	v := &api.PersistentVolume{ObjectMeta: store.ObjectMeta{Name: name}}
	v.Spec.StorageClassName = class
	v.Spec.Capacity = api.ResourceList{api.ResourceStorage: api.MustParse(size)}
	v.Spec.AccessModes = []api.PersistentVolumeAccessMode{api.ReadWriteOnce}
	v.Status.Phase = api.VolumeAvailable
	if host != "" {
		v.Spec.NodeAffinity = &api.VolumeNodeAffinity{Required: &api.NodeSelector{NodeSelectorTerms: []api.NodeSelectorTerm{{
			MatchExpressions: []api.NodeSelectorRequirement{{Key: api.LabelHostname, Operator: api.NodeSelectorOpIn, Values: []string{host}}}}}}}
	}
	return v
}

func tclass(name, provisioner string, mode storage.VolumeBindingMode) *storage.StorageClass {
	return &storage.StorageClass{ObjectMeta: store.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &mode}
}

func claimPod(claims ...string) *api.Pod {
	p := tpod("p", "ns")
	for _, c := range claims {
		p.Spec.Volumes = append(p.Spec.Volumes, api.Volume{Name: "v-" + c,
			VolumeSource: api.VolumeSource{PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	return p
}

// TestVolumeBindingFilter: Kubernetes' VolumeBinding verdicts for bound,
// missing, immediate and WaitForFirstConsumer claims, static volumes
// (class, size, access mode, node affinity, other claims) and dynamic
// provisioning.
func TestVolumeBindingFilter(t *testing.T) {
	wffc, imm := storage.VolumeBindingWaitForFirstConsumer, storage.VolumeBindingImmediate
	classes := map[string]*storage.StorageClass{
		"local":   tclass("local", noProvisioner, wffc),
		"dynamic": tclass("dynamic", "setpoint.dev/local-path", wffc),
		"fast":    tclass("fast", "setpoint.dev/local-path", imm),
	}
	topo := tclass("topo", "setpoint.dev/local-path", wffc)
	topo.AllowedTopologies = []api.TopologySelectorTerm{{MatchLabelExpressions: []api.TopologySelectorLabelRequirement{{Key: api.LabelHostname, Values: []string{"b"}}}}}
	classes["topo"] = topo
	other := tvol("taken", "local", "10Gi", "a")
	other.Spec.ClaimRef = &api.ObjectReference{Namespace: "ns", Name: "someone-else"}
	rwx := tclaim("rwx", "local", "1Gi", "")
	rwx.Spec.AccessModes = []api.PersistentVolumeAccessMode{api.ReadWriteMany}
	claims := map[string]*api.PersistentVolumeClaim{}
	for _, c := range []*api.PersistentVolumeClaim{
		tclaim("bound-a", "local", "1Gi", "pv-a"), tclaim("bound-gone", "local", "1Gi", "pv-gone"),
		tclaim("wait", "local", "1Gi", ""), tclaim("wait-big", "local", "20Gi", ""), tclaim("wait-2", "local", "1Gi", ""),
		tclaim("dyn", "dynamic", "1Gi", ""), tclaim("immediate", "fast", "1Gi", ""), tclaim("no-class", "-", "1Gi", ""),
		tclaim("topo", "topo", "1Gi", ""), rwx,
	} {
		claims["ns/"+c.Name] = c
	}
	pvA := tvol("pv-a", "local", "1Gi", "a")
	pvA.Spec.ClaimRef, pvA.Status.Phase = &api.ObjectReference{Namespace: "ns", Name: "bound-a", UID: "uid-bound-a"}, api.VolumeBound
	vols := []*api.PersistentVolume{pvA, tvol("small-b", "local", "2Gi", "b"), other, tvol("other-class-c", "dynamic", "5Gi", "c")}
	nodes := buildNodes([]tnode{zoneNode("a", "z1"), zoneNode("b", "z1"), zoneNode("c", "z2")})
	for _, tc := range []struct {
		name   string
		claims []string
		want   map[string]string
	}{
		{"no claims", nil, map[string]string{"a": "", "b": "", "c": ""}},
		{"missing claim", []string{"nope"}, all3("UnschedulableAndUnresolvable: persistentvolumeclaim \"nope\" not found")},
		{"unbound immediate", []string{"immediate"}, all3("UnschedulableAndUnresolvable: " + errUnboundImmediate)},
		{"unbound without class", []string{"no-class"}, all3("UnschedulableAndUnresolvable: " + errUnboundImmediate)},
		{"bound to a volume on a", []string{"bound-a"}, map[string]string{"a": "", "b": "UnschedulableAndUnresolvable: " + ErrReasonNodeConflict, "c": "UnschedulableAndUnresolvable: " + ErrReasonNodeConflict}},
		{"bound to a missing volume", []string{"bound-gone"}, all3("UnschedulableAndUnresolvable: " + ErrReasonPVNotExist)},
		// a's volumes are bound to other claims, c's is of another class.
		{"WaitForFirstConsumer static", []string{"wait"}, map[string]string{"a": "Unschedulable: " + ErrReasonBindConflict, "b": "", "c": "Unschedulable: " + ErrReasonBindConflict}},
		{"too big for every volume", []string{"wait-big"}, all3("Unschedulable: " + ErrReasonBindConflict)},
		{"access mode not offered", []string{"rwx"}, all3("Unschedulable: " + ErrReasonBindConflict)},
		{"two claims need two volumes", []string{"wait", "wait-2"}, all3("Unschedulable: " + ErrReasonBindConflict)},
		{"dynamic provisioning anywhere", []string{"dyn"}, map[string]string{"a": "", "b": "", "c": ""}},
		{"dynamic within allowedTopologies", []string{"topo"}, map[string]string{"a": "Unschedulable: " + ErrReasonBindConflict, "b": "", "c": "Unschedulable: " + ErrReasonBindConflict}},
		{"bound and dynamic", []string{"bound-a", "dyn"}, map[string]string{"a": "", "b": "UnschedulableAndUnresolvable: " + ErrReasonNodeConflict, "c": "UnschedulableAndUnresolvable: " + ErrReasonNodeConflict}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeVolumes{claims: claims, vols: vols, classes: classes}
			got := filterVerdicts(t, NewVolumeBinding(f), framework.NewCycleState(), claimPod(tc.claims...), nodes)
			if !maps.Equal(got, tc.want) {
				t.Errorf("verdicts %v, want %v", got, tc.want)
			}
		})
	}
}

func all3(v string) map[string]string { return map[string]string{"a": v, "b": v, "c": v} }

// TestVolumeBindingReserveAndPreBind: Reserve picks the smallest fitting
// volume on the node and keeps it from other pods until Unreserve; PreBind
// binds static volumes, selects the node for dynamic claims, and waits for
// every claim.
func TestVolumeBindingReserveAndPreBind(t *testing.T) {
	ctx := context.Background()
	wffc := storage.VolumeBindingWaitForFirstConsumer
	f := &fakeVolumes{
		classes: map[string]*storage.StorageClass{"local": tclass("local", noProvisioner, wffc), "dynamic": tclass("dynamic", "x/y", wffc)},
		claims:  map[string]*api.PersistentVolumeClaim{},
		vols:    []*api.PersistentVolume{tvol("big", "local", "10Gi", "a"), tvol("small", "local", "2Gi", "a"), tvol("elsewhere", "local", "1Gi", "b")},
	}
	for _, c := range []*api.PersistentVolumeClaim{tclaim("c1", "local", "1Gi", ""), tclaim("c2", "local", "1Gi", ""), tclaim("d", "dynamic", "1Gi", "")} {
		f.claims["ns/"+c.Name] = c
	}
	nodes := buildNodes([]tnode{zoneNode("a", "z1"), zoneNode("b", "z1")})
	f.nodes = map[string]*api.Node{"a": nodes[0].Node(), "b": nodes[1].Node()}
	pl := NewVolumeBinding(f)
	cycle := func(claims ...string) (*framework.CycleState, *framework.PodInfo) {
		state, info := framework.NewCycleState(), framework.NewPodInfo(claimPod(claims...))
		if st := pl.PreFilter(ctx, state, info, nodes); !st.IsSuccess() {
			t.Fatalf("PreFilter: %v", st)
		}
		return state, info
	}
	s1, p1 := cycle("c1", "d")
	if st := pl.Reserve(ctx, s1, p1, "a"); !st.IsSuccess() {
		t.Fatalf("Reserve: %v", st)
	}
	// A second pod's claim can now only have "big" on a.
	s2, p2 := cycle("c2")
	if st := pl.Reserve(ctx, s2, p2, "a"); !st.IsSuccess() {
		t.Fatalf("Reserve 2: %v", st)
	}
	// A third finds nothing left on a.
	f.claims["ns/c3"] = tclaim("c3", "local", "1Gi", "")
	s3, p3 := cycle("c3")
	if st := pl.Filter(ctx, s3, p3, nodes[0]); st.Code() != framework.Unschedulable {
		t.Fatalf("Filter with every volume of a reserved: %v", st)
	}
	pl.Unreserve(ctx, s2, p2, "a")
	if st := pl.Filter(ctx, s3, p3, nodes[0]); !st.IsSuccess() {
		t.Fatalf("Filter after Unreserve: %v", st)
	}
	if st := pl.PreBind(ctx, s1, p1, "a"); !st.IsSuccess() {
		t.Fatalf("PreBind: %v", st)
	}
	want := []string{"bind small ns/c1", "select ns/d a", "wait ns/c1", "wait ns/d"}
	if !slices.Equal(f.writes, want) {
		t.Fatalf("writes %q, want %q", f.writes, want)
	}
}
