package localvolume_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/localvolume"
	"github.com/setpoint-dev/setpoint/store"
)

func class(t *testing.T, cs *client.Clientset, name string, policy api.PersistentVolumeReclaimPolicy) {
	t.Helper()
	sc := &storage.StorageClass{Provisioner: localvolume.ProvisionerName}
	sc.Name = name
	mode := storage.VolumeBindingWaitForFirstConsumer
	sc.VolumeBindingMode, sc.ReclaimPolicy = &mode, &policy
	if _, err := cs.StorageClasses().Create(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
}

func claim(t *testing.T, cs *client.Clientset, name, class string) *api.PersistentVolumeClaim {
	t.Helper()
	c := &api.PersistentVolumeClaim{}
	c.Namespace, c.Name = "default", name
	c.Spec.StorageClassName = &class
	c.Spec.AccessModes = []api.PersistentVolumeAccessMode{api.ReadWriteOnce}
	c.Spec.Resources.Requests = api.ResourceList{"storage": api.MustParse("1Gi")}
	out, err := cs.PersistentVolumeClaims().Create(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func consumer(t *testing.T, cs *client.Clientset, name, claim, node string) {
	t.Helper()
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Spec.NodeName = node
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	p.Spec.Volumes = []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}
	if _, err := cs.Pods().Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// TestProvisionBindReclaim: a WaitForFirstConsumer claim waits until a
// pod using it is on a node, then gets a hostPath volume under that
// node's directory, pinned to the node, both bound; deleting the claim
// deletes the volume (Delete) or releases it (Retain). A claim of another
// provisioner's class is left alone.
func TestProvisionBindReclaim(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	n := &api.Node{}
	n.Name = "n1"
	n.Annotations = map[string]string{localvolume.AnnotationNodeDir: "/data/n1"}
	if _, err := cs.Nodes().Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	class(t, cs, "local", api.PersistentVolumeReclaimDelete)
	class(t, cs, "local-retain", "Retain")
	other := &storage.StorageClass{Provisioner: "example.com/other"}
	other.Name = "other"
	if _, err := cs.StorageClasses().Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	p, err := localvolume.New(localvolume.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "localvolume", p.Run)

	data := claim(t, cs, "data", "local")
	kept := claim(t, cs, "kept", "local-retain")
	foreign := claim(t, cs, "foreign", "other")
	consumer(t, cs, "foreign-user", "foreign", "n1")
	consumer(t, cs, "unscheduled", "data", "")

	bound := func(c *api.PersistentVolumeClaim) *api.PersistentVolume {
		t.Helper()
		var pv *api.PersistentVolume
		controllertest.Eventually(t, "claim "+c.Name+" bound", func() error {
			got, err := cs.PersistentVolumeClaims().Get(ctx, "default", c.Name)
			if err != nil {
				return err
			}
			if got.Status.Phase != api.ClaimBound || got.Spec.VolumeName == "" {
				return fmt.Errorf("claim phase %q volume %q", got.Status.Phase, got.Spec.VolumeName)
			}
			pv, err = cs.PersistentVolumes().Get(ctx, "", got.Spec.VolumeName)
			if err != nil {
				return err
			}
			if pv.Status.Phase != api.VolumeBound {
				return fmt.Errorf("volume phase %q", pv.Status.Phase)
			}
			return nil
		})
		return pv
	}
	consumer(t, cs, "user", "data", "n1")
	pv := bound(data)
	if pv.Spec.HostPath == nil || pv.Spec.HostPath.Path != "/data/n1/pvc-"+data.UID {
		t.Errorf("hostPath %+v, want /data/n1/pvc-%s", pv.Spec.HostPath, data.UID)
	}
	if pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != data.UID {
		t.Errorf("claimRef %+v", pv.Spec.ClaimRef)
	}
	req := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0]
	if req.Key != api.LabelHostname || len(req.Values) != 1 || req.Values[0] != "n1" {
		t.Errorf("node affinity %+v, want hostname n1", req)
	}
	consumer(t, cs, "keeper", "kept", "n1")
	keptPV := bound(kept)

	if err := cs.PersistentVolumeClaims().DeleteNow(ctx, "default", "data"); err != nil {
		t.Fatal(err)
	}
	if err := cs.PersistentVolumeClaims().DeleteNow(ctx, "default", "kept"); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "volumes reclaimed", func() error {
		if _, err := cs.PersistentVolumes().Get(ctx, "", pv.Name); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("Delete volume still there (err %v)", err)
		}
		got, err := cs.PersistentVolumes().Get(ctx, "", keptPV.Name)
		if err != nil {
			return err
		}
		if got.Status.Phase != api.VolumeReleased {
			return fmt.Errorf("Retain volume phase %q, want Released", got.Status.Phase)
		}
		return nil
	})
	f, err := cs.PersistentVolumeClaims().Get(ctx, "default", foreign.Name)
	if err != nil {
		t.Fatal(err)
	}
	if f.Spec.VolumeName != "" || f.Status.Phase == api.ClaimBound {
		t.Errorf("claim of another provisioner was bound: %+v", f.Spec)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []localvolume.Config{{}, {Client: &client.Clientset{}, BaseDir: "relative/dir"}} {
		if _, err := localvolume.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
