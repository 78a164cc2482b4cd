package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
	"github.com/setpoint-dev/setpoint/informer"
)

// volumeClient is plugins.VolumeClient over the scheduler's informers and
// its clientset: reads from the caches, compare-and-swap writes through
// the apiserver (with the leader's fence in ctx), and waits on informer
// events.
type volumeClient struct {
	cs      *client.Clientset
	claims  *informer.Informer[*api.PersistentVolumeClaim]
	volumes *informer.Informer[*api.PersistentVolume]
	classes *informer.Informer[*storage.StorageClass]
	nodes   *informer.Informer[*api.Node]
	clock   clockwork.Clock

	mu sync.Mutex
	// changed is closed (and replaced) whenever a claim or volume
	// changes, waking WaitBound.
	changed chan struct{}
}

var _ plugins.VolumeClient = (*volumeClient)(nil)

func (v *volumeClient) Claim(ns, name string) (*api.PersistentVolumeClaim, bool) {
	return v.claims.Get(ns, name)
}
func (v *volumeClient) Volumes() []*api.PersistentVolume { return v.volumes.List() }
func (v *volumeClient) Node(name string) (*api.Node, bool) {
	return v.nodes.Get("", name)
}
func (v *volumeClient) StorageClass(name string) (*storage.StorageClass, bool) {
	return v.classes.Get("", name)
}

// notify wakes the waiters.
func (v *volumeClient) notify() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.changed != nil {
		close(v.changed)
		v.changed = nil
	}
}

func (v *volumeClient) wait() <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.changed == nil {
		v.changed = make(chan struct{})
	}
	return v.changed
}

// BindVolume writes the volume's claimRef and phase Bound, then the
// claim's volumeName and phase Bound (no controller of the example
// cluster binds static volumes), each conditional on the cached version.
func (v *volumeClient) BindVolume(ctx context.Context, pv *api.PersistentVolume, c *api.PersistentVolumeClaim) error {
	nv := pv.DeepCopy()
	nv.Spec.ClaimRef = &api.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.Namespace, Name: c.Name,
		UID: c.UID, ResourceVersion: c.ResourceVersion}
	out, err := v.cs.PersistentVolumes().Update(ctx, nv)
	if err != nil {
		return fmt.Errorf("volume %s: claimRef: %w", pv.Name, err)
	}
	out.Status.Phase = api.VolumeBound
	if _, err := v.cs.PersistentVolumes().UpdateStatus(ctx, out); err != nil {
		return fmt.Errorf("volume %s: status Bound: %w", pv.Name, err)
	}
	nc := c.DeepCopy()
	nc.Spec.VolumeName = pv.Name
	cout, err := v.cs.PersistentVolumeClaims().Update(ctx, nc)
	if err != nil {
		return fmt.Errorf("claim %s/%s: volumeName: %w", c.Namespace, c.Name, err)
	}
	cout.Status.Phase = api.ClaimBound
	cout.Status.AccessModes, cout.Status.Capacity = pv.Spec.AccessModes, pv.Spec.Capacity
	if _, err := v.cs.PersistentVolumeClaims().UpdateStatus(ctx, cout); err != nil {
		return fmt.Errorf("claim %s/%s: status Bound: %w", c.Namespace, c.Name, err)
	}
	return nil
}

// SetSelectedNode sets or removes the claim's selected-node annotation.
func (v *volumeClient) SetSelectedNode(ctx context.Context, c *api.PersistentVolumeClaim, node string) error {
	if c.Annotations[plugins.AnnotationSelectedNode] == node {
		return nil
	}
	nc := c.DeepCopy()
	if node == "" {
		delete(nc.Annotations, plugins.AnnotationSelectedNode)
	} else {
		if nc.Annotations == nil {
			nc.Annotations = map[string]string{}
		}
		nc.Annotations[plugins.AnnotationSelectedNode] = node
	}
	_, err := v.cs.PersistentVolumeClaims().Update(ctx, nc)
	return err
}

// WaitBound waits until the cached claim is Bound to a volume and the
// cached volume names it, so the next pods' filters see both.
// It gives up after DefaultVolumeBindTimeout.
func (v *volumeClient) WaitBound(ctx context.Context, ns, name string) error {
	ctx, cancel := clockwork.WithTimeout(ctx, v.clock, DefaultVolumeBindTimeout)
	defer cancel()
	for {
		ch := v.wait()
		c, ok := v.claims.Get(ns, name)
		if !ok {
			return fmt.Errorf("claim %s/%s is gone", ns, name)
		}
		if c.Status.Phase == api.ClaimBound && c.Spec.VolumeName != "" {
			if pv, ok := v.volumes.Get("", c.Spec.VolumeName); ok && pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.UID == c.UID {
				return nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// DefaultVolumeBindTimeout bounds how long a binding waits for its
// claims to be bound (Kubernetes' bindTimeoutSeconds, 600).
const DefaultVolumeBindTimeout = 10 * time.Minute

// newVolumeClient makes the claim, volume and class informers; a change
// to any of them wakes WaitBound and moves unschedulable pods back to the
// queue (a new volume or class may make a pod fit).
func (s *Scheduler) newVolumeClient() error {
	cfg := s.cfg
	v := &volumeClient{cs: cfg.Client, clock: cfg.Clock}
	var err error
	if v.claims, err = newInformer[*api.PersistentVolumeClaim](s, cfg.Client.PersistentVolumeClaims(), "claims"); err != nil {
		return err
	}
	if v.volumes, err = newInformer[*api.PersistentVolume](s, cfg.Client.PersistentVolumes(), "volumes"); err != nil {
		return err
	}
	if v.classes, err = newInformer[*storage.StorageClass](s, cfg.Client.StorageClasses(), "storageclasses"); err != nil {
		return err
	}
	changed := func() { v.notify(); s.queue.moveAll() }
	if _, err := v.claims.AddHandler(informer.HandlerFuncs[*api.PersistentVolumeClaim]{
		AddFunc: func(*api.PersistentVolumeClaim, bool) { changed() }, UpdateFunc: func(_, _ *api.PersistentVolumeClaim) { changed() },
		DeleteFunc: func(*api.PersistentVolumeClaim, bool) { v.notify() },
	}); err != nil {
		return err
	}
	if _, err := v.volumes.AddHandler(informer.HandlerFuncs[*api.PersistentVolume]{
		AddFunc: func(*api.PersistentVolume, bool) { changed() }, UpdateFunc: func(_, _ *api.PersistentVolume) { changed() },
		DeleteFunc: func(*api.PersistentVolume, bool) { v.notify() },
	}); err != nil {
		return err
	}
	if _, err := v.classes.AddHandler(informer.HandlerFuncs[*storage.StorageClass]{
		AddFunc: func(*storage.StorageClass, bool) { s.queue.moveAll() }, UpdateFunc: func(_, _ *storage.StorageClass) { s.queue.moveAll() },
	}); err != nil {
		return err
	}
	s.vols = v
	return nil
}
