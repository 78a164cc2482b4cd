package localvolume

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// syncClaim provisions a volume for a pending claim of ours once its node
// is known, and binds the two.
func (p *Provisioner) syncClaim(ctx context.Context, ns, name string) error {
	c, ok := p.claims.Get(ns, name)
	if !ok || c.DeletionTimestamp != nil || c.Status.Phase == api.ClaimBound {
		return nil
	}
	sc, ours := p.class(c)
	if !ours {
		return nil
	}
	node := p.selectedNode(c)
	if node == "" {
		// WaitForFirstConsumer: wait for it. Immediate binding makes no
		// sense for a volume that lives on one node: it waits as well.
		return nil
	}
	n, ok := p.nodes.Get("", node)
	if !ok {
		return fmt.Errorf("claim %s/%s: node %s is not known", ns, name, node)
	}
	pvName := volumeName(c)
	pv, ok := p.volumes.Get("", pvName)
	if !ok {
		dir := p.cfg.BaseDir
		if d := n.Annotations[AnnotationNodeDir]; d != "" && path.IsAbs(d) {
			dir = d
		}
		pv = &api.PersistentVolume{}
		pv.Name = pvName
		pv.Annotations = map[string]string{AnnotationProvisionedBy: ProvisionerName}
		pv.Spec.Capacity = c.Spec.Resources.Requests
		pv.Spec.AccessModes = c.Spec.AccessModes
		pv.Spec.StorageClassName = sc.Name
		pv.Spec.PersistentVolumeReclaimPolicy = api.PersistentVolumeReclaimDelete
		if sc.ReclaimPolicy != nil {
			pv.Spec.PersistentVolumeReclaimPolicy = *sc.ReclaimPolicy
		}
		t := api.HostPathDirectoryOrCreate
		pv.Spec.HostPath = &api.HostPathVolumeSource{Path: path.Join(dir, pvName), Type: &t}
		pv.Spec.NodeAffinity = &api.VolumeNodeAffinity{Required: &api.NodeSelector{NodeSelectorTerms: []api.NodeSelectorTerm{{
			MatchExpressions: []api.NodeSelectorRequirement{{Key: api.LabelHostname, Operator: api.NodeSelectorOpIn, Values: []string{node}}}}}}}
		pv.Spec.ClaimRef = &api.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: ns, Name: name, UID: c.UID}
		out, err := p.cfg.Client.PersistentVolumes().Create(ctx, pv)
		if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("claim %s/%s: create volume: %w", ns, name, err)
		}
		if err == nil {
			pv = out
			p.cfg.Logger.Info("provisioned volume", "controller", "localvolume", "object", ns+"/"+name, "volume", pvName, "node", node)
		} else if pv, err = p.cfg.Client.PersistentVolumes().Get(ctx, "", pvName); err != nil {
			return err
		}
	}
	if pv.Status.Phase != api.VolumeBound {
		st := pv.DeepCopy()
		st.Status.Phase = api.VolumeBound
		if _, err := p.cfg.Client.PersistentVolumes().UpdateStatus(ctx, st); err != nil {
			return fmt.Errorf("volume %s: status Bound: %w", pvName, err)
		}
	}
	if c.Spec.VolumeName != pvName {
		upd := c.DeepCopy()
		upd.Spec.VolumeName = pvName
		out, err := p.cfg.Client.PersistentVolumeClaims().Update(ctx, upd)
		if err != nil {
			return fmt.Errorf("claim %s/%s: bind: %w", ns, name, err)
		}
		c = out
	}
	return p.claimBound(ctx, c, pv)
}

func (p *Provisioner) claimBound(ctx context.Context, c *api.PersistentVolumeClaim, pv *api.PersistentVolume) error {
	st := c.DeepCopy()
	st.Status.Phase = api.ClaimBound
	st.Status.AccessModes = pv.Spec.AccessModes
	st.Status.Capacity = pv.Spec.Capacity
	if _, err := p.cfg.Client.PersistentVolumeClaims().UpdateStatus(ctx, st); err != nil {
		return fmt.Errorf("claim %s/%s: status Bound: %w", c.Namespace, c.Name, err)
	}
	return nil
}

// syncVolume reclaims a volume of ours whose claim is gone: Delete
// deletes it, Retain marks it Released.
func (p *Provisioner) syncVolume(ctx context.Context, name string) error {
	pv, ok := p.volumes.Get("", name)
	if !ok || pv.Annotations[AnnotationProvisionedBy] != ProvisionerName || pv.Spec.ClaimRef == nil {
		return nil
	}
	ref := pv.Spec.ClaimRef
	if c, ok := p.claims.Get(ref.Namespace, ref.Name); ok && c.UID == ref.UID {
		return nil
	}
	// The cache may lag: make sure the claim is gone.
	c, err := p.cfg.Client.PersistentVolumeClaims().Get(ctx, ref.Namespace, ref.Name)
	if err == nil && c.UID == ref.UID {
		return nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == api.PersistentVolumeReclaimDelete {
		if err := p.cfg.Client.PersistentVolumes().DeleteNow(ctx, "", name, store.WithPreconditionUID(pv.UID)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("volume %s: delete: %w", name, err)
		}
		p.cfg.Logger.Info("deleted volume", "controller", "localvolume", "volume", name)
		return nil
	}
	if pv.Status.Phase != api.VolumeReleased {
		st := pv.DeepCopy()
		st.Status.Phase = api.VolumeReleased
		if _, err := p.cfg.Client.PersistentVolumes().UpdateStatus(ctx, st); err != nil {
			return fmt.Errorf("volume %s: status Released: %w", name, err)
		}
	}
	return nil
}
