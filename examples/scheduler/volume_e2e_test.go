package scheduler_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/localvolume"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
)

func createClaim(t *testing.T, cs *client.Clientset, name, class string) {
	t.Helper()
	c := &api.PersistentVolumeClaim{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: name}}
	c.Spec.StorageClassName = &class
	c.Spec.AccessModes = []api.PersistentVolumeAccessMode{api.ReadWriteOnce}
	c.Spec.Resources.Requests = api.ResourceList{api.ResourceStorage: api.MustParse("1Gi")}
	if _, err := cs.PersistentVolumeClaims().Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func claimPod(name, claim string) *api.Pod {
	p := newPod(name, "100m", "64Mi")
	p.Spec.Volumes = []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{
		PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}
	return p
}

// TestVolumeBindingEndToEnd: with the local volume provisioner running, a
// pod whose WaitForFirstConsumer claim has no volume yet lands on a node
// and the claim is bound to a volume made for that node; a pod whose claim
// can only use a static volume on node b lands on b with the claim bound
// to it; a pod naming a missing claim is explained.
func TestVolumeBindingEndToEnd(t *testing.T) {
	cs := startServer(t)
	ctx := context.Background()
	wffc := storage.VolumeBindingWaitForFirstConsumer
	for name, prov := range map[string]string{"local-path": localvolume.ProvisionerName, "manual": "kubernetes.io/no-provisioner"} {
		sc := &storage.StorageClass{Provisioner: prov, VolumeBindingMode: &wffc}
		sc.Name = name
		if _, err := cs.StorageClasses().Create(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		createNode(t, cs, newNode(n, "2", "4Gi", nil))
	}
	pv := &api.PersistentVolume{ObjectMeta: store.ObjectMeta{Name: "pv-b"}}
	pv.Spec.StorageClassName = "manual"
	pv.Spec.Capacity = api.ResourceList{api.ResourceStorage: api.MustParse("5Gi")}
	pv.Spec.AccessModes = []api.PersistentVolumeAccessMode{api.ReadWriteOnce}
	pv.Spec.HostPath = &api.HostPathVolumeSource{Path: "/srv/pv-b"}
	pv.Spec.NodeAffinity = &api.VolumeNodeAffinity{Required: &api.NodeSelector{NodeSelectorTerms: []api.NodeSelectorTerm{{
		MatchExpressions: []api.NodeSelectorRequirement{{Key: api.LabelHostname, Operator: api.NodeSelectorOpIn, Values: []string{"b"}}}}}}}
	if _, err := cs.PersistentVolumes().Create(ctx, pv); err != nil {
		t.Fatal(err)
	}
	prov, err := localvolume.New(localvolume.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "localvolume", prov.Run)
	startScheduler(t, scheduler.Config{Client: cs})

	createClaim(t, cs, "dyn", "local-path")
	createClaim(t, cs, "static", "manual")
	createPod(t, cs, claimPod("dyn", "dyn"))
	createPod(t, cs, claimPod("static", "static"))
	createPod(t, cs, claimPod("missing", "nope"))

	bound := func(pod, claim string) (node string, vol *api.PersistentVolume) {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("events of %s: %q", pod, events(t, cs, pod, "FailedScheduling"))
				c, _ := cs.PersistentVolumeClaims().Get(ctx, "default", claim)
				t.Logf("claim: %+v", c)
			}
		})
		waitFor(t, pod+" bound with its claim", func() (bool, error) {
			p, err := cs.Pods().Get(ctx, "default", pod)
			if err != nil || p.Spec.NodeName == "" {
				return false, err
			}
			node = p.Spec.NodeName
			return true, nil
		})
		c, err := cs.PersistentVolumeClaims().Get(ctx, "default", claim)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status.Phase != api.ClaimBound || c.Spec.VolumeName == "" {
			t.Fatalf("claim %s is %s (volume %q) once its pod is bound, want Bound", claim, c.Status.Phase, c.Spec.VolumeName)
		}
		vol, err = cs.PersistentVolumes().Get(ctx, "", c.Spec.VolumeName)
		if err != nil {
			t.Fatal(err)
		}
		if ref := vol.Spec.ClaimRef; ref == nil || ref.Name != claim || ref.UID != c.UID {
			t.Fatalf("volume %s claimRef %+v, want claim %s", vol.Name, ref, claim)
		}
		return node, vol
	}
	node, vol := bound("dyn", "dyn")
	hosts := vol.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values
	if !slices.Equal(hosts, []string{node}) {
		t.Errorf("provisioned volume %s is for nodes %v, pod is on %s", vol.Name, hosts, node)
	}
	if node, vol := bound("static", "static"); node != "b" || vol.Name != "pv-b" || vol.Status.Phase != api.VolumeBound {
		t.Errorf("static: pod on %s, volume %s (%s); want b, pv-b, Bound", node, vol.Name, vol.Status.Phase)
	}
	waitFor(t, "the missing claim explained", func() (bool, error) {
		return slices.ContainsFunc(events(t, cs, "missing", "FailedScheduling"), func(m string) bool {
			return strings.HasPrefix(m, `0/3 nodes are available: persistentvolumeclaim "nope" not found.`)
		}), nil
	})
}
