package plugins

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// VolumeBindingName is the plugin's name.
const VolumeBindingName = "VolumeBinding"

// Kubernetes' VolumeBinding reasons.
const (
	ErrReasonBindConflict = "node(s) didn't find available persistent volumes to bind"
	ErrReasonNodeConflict = "node(s) had volume node affinity conflict"
	ErrReasonPVNotExist   = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
	errUnboundImmediate   = "pod has unbound immediate PersistentVolumeClaims"
)

// AnnotationSelectedNode is the claim annotation naming the node a
// dynamically provisioned volume must be made for.
const AnnotationSelectedNode = "volume.kubernetes.io/selected-node"

// noProvisioner is the provisioner of classes of static volumes only.
const noProvisioner = "kubernetes.io/no-provisioner"

// VolumeListers serves claims, volumes and classes (informer caches; the
// objects are read-only).
type VolumeListers interface {
	Claim(namespace, name string) (*api.PersistentVolumeClaim, bool)
	Volumes() []*api.PersistentVolume
	Node(name string) (*api.Node, bool)
	StorageClass(name string) (*storage.StorageClass, bool)
}

// VolumeWriter makes binding decisions real through the apiserver.
type VolumeWriter interface {
	// BindVolume binds pv to claim (pv's claimRef and phase Bound; the
	// claim's volumeName and phase Bound), each write conditional on the
	// object's resourceVersion as given.
	BindVolume(ctx context.Context, pv *api.PersistentVolume, claim *api.PersistentVolumeClaim) error
	// SetSelectedNode sets (node != "") or removes (node == "") the
	// claim's AnnotationSelectedNode.
	SetSelectedNode(ctx context.Context, claim *api.PersistentVolumeClaim, node string) error
	// WaitBound waits until the listers show the claim Bound, or ctx ends.
	WaitBound(ctx context.Context, namespace, name string) error
}

// VolumeClient is what VolumeBinding needs of the cluster.
type VolumeClient interface {
	VolumeListers
	VolumeWriter
}

// VolumeBinding is Kubernetes' VolumeBinding plugin for local
// PersistentVolumes (PreFilter, Filter, Reserve, PreBind).
//
// PreFilter gathers the pod's claims (spec.volumes[].persistentVolumeClaim,
// and generic ephemeral volumes, whose claim is <pod>-<volume>): a missing
// claim rejects the pod everywhere (UnschedulableAndUnresolvable,
// `persistentvolumeclaim "X" not found`), as does a claim being deleted
// and an unbound claim whose class binds Immediately (or that has no
// class): "pod has unbound immediate PersistentVolumeClaims". A pod with
// no claims skips the plugin.
//
// Filter: a bound claim's volume must exist ("node(s) unavailable due to
// one or more pvc(s) bound to non-existent pv(s)") and its nodeAffinity
// must match the node ("node(s) had volume node affinity conflict"). An
// unbound WaitForFirstConsumer claim needs an available volume that fits
// it on the node: same class, not bound or reserved for another claim,
// not Released or Failed,
// not being deleted, enough capacity, the access modes and volume mode
// asked for, labels matching the claim's selector, nodeAffinity matching
// the node; the smallest such volume is chosen. Failing that, a class with
// a provisioner (not kubernetes.io/no-provisioner) whose
// allowedTopologies admit the node provisions one there; otherwise
// "node(s) didn't find available persistent volumes to bind".
//
// Reserve makes the choices for the chosen node and reserves the chosen
// volumes against other pods; Unreserve releases them and removes a
// selected-node annotation it wrote on a claim that is still unbound.
// PreBind binds each chosen static volume to its claim, writes
// volume.kubernetes.io/selected-node on each claim to provision (the
// provisioner, examples/controllers/localvolume, then makes and binds the
// volume), and waits until every claim is Bound.
type VolumeBinding struct {
	// Client reads and writes volumes. The scheduler sets it for a
	// VolumeBinding listed in a profile without one.
	Client VolumeClient

	mu sync.Mutex
	// reserved maps a volume's name to the claim (namespace/name) a
	// reserved pod chose it for.
	reserved map[string]string
}

// NewVolumeBinding returns the plugin with client (nil: the scheduler's).
func NewVolumeBinding(client VolumeClient) *VolumeBinding {
	return &VolumeBinding{Client: client, reserved: map[string]string{}}
}

var (
	_ framework.PreFilterPlugin = (*VolumeBinding)(nil)
	_ framework.FilterPlugin    = (*VolumeBinding)(nil)
	_ framework.ReservePlugin   = (*VolumeBinding)(nil)
	_ framework.PreBindPlugin   = (*VolumeBinding)(nil)
)

// Name implements framework.Plugin.
func (*VolumeBinding) Name() string { return VolumeBindingName }

const volumeBindingKey framework.StateKey = "PreFilter" + VolumeBindingName

// podVolumes is one pod's claims, split as PreFilter found them, and
// Reserve's decisions.
type podVolumes struct {
	bound   []*api.PersistentVolumeClaim
	delayed []*api.PersistentVolumeClaim
	// Reserve's decisions: volumes to bind, claims to provision.
	static  map[string]*api.PersistentVolume // claim key -> volume
	dynamic []*api.PersistentVolumeClaim
}

func (p *podVolumes) Clone() framework.StateData { return p }

func claimKey(c *api.PersistentVolumeClaim) string { return c.Namespace + "/" + c.Name }

// podClaimNames returns the names of the claims the pod's volumes use.
func podClaimNames(pod *api.Pod) []string {
	var out []string
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			out = append(out, pod.Name+"-"+v.Name)
		}
	}
	return out
}

func claimClass(c *api.PersistentVolumeClaim) string {
	if c.Spec.StorageClassName != nil {
		return *c.Spec.StorageClassName
	}
	return c.Annotations["volume.beta.kubernetes.io/storage-class"]
}

// delayed reports whether the claim's class binds WaitForFirstConsumer.
func (pl *VolumeBinding) delayed(c *api.PersistentVolumeClaim) bool {
	sc, ok := pl.Client.StorageClass(claimClass(c))
	return ok && sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storage.VolumeBindingWaitForFirstConsumer
}

// PreFilter gathers and checks the pod's claims.
func (pl *VolumeBinding) PreFilter(_ context.Context, state *framework.CycleState, p *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	names := podClaimNames(p.Pod)
	if len(names) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	if pl.Client == nil {
		return framework.NewStatus(framework.Error, "VolumeBinding has no volume client")
	}
	pv := &podVolumes{}
	for _, name := range names {
		c, ok := pl.Client.Claim(p.Pod.Namespace, name)
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("persistentvolumeclaim %q not found", name))
		}
		if c.DeletionTimestamp != nil {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("persistentvolumeclaim %q is being deleted", name))
		}
		switch {
		case c.Spec.VolumeName != "":
			pv.bound = append(pv.bound, c)
		case pl.delayed(c):
			pv.delayed = append(pv.delayed, c)
		default:
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, errUnboundImmediate)
		}
	}
	state.Write(volumeBindingKey, pv)
	return nil
}

func readPodVolumes(state *framework.CycleState) (*podVolumes, error) {
	return framework.ReadAs[*podVolumes](state, volumeBindingKey)
}

// Filter checks the pod's claims against one node.
func (pl *VolumeBinding) Filter(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	pv, err := readPodVolumes(state)
	if err != nil {
		return framework.AsStatus(err)
	}
	if st := pl.checkBound(pv, n.Node()); st != nil {
		return st
	}
	pl.mu.Lock()
	reserved := maps.Clone(pl.reserved)
	pl.mu.Unlock()
	if _, _, ok := pl.choose(pv, n.Node(), reserved); !ok {
		return framework.NewStatus(framework.Unschedulable, ErrReasonBindConflict)
	}
	return nil
}

// checkBound checks the volumes of bound claims against the node.
func (pl *VolumeBinding) checkBound(pv *podVolumes, node *api.Node) *framework.Status {
	if len(pv.bound) == 0 {
		return nil
	}
	vols := pl.Client.Volumes()
	for _, c := range pv.bound {
		i := slices.IndexFunc(vols, func(v *api.PersistentVolume) bool { return v.Name == c.Spec.VolumeName })
		if i < 0 {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonPVNotExist)
		}
		if !volumeFitsNode(vols[i], node) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeConflict)
		}
	}
	return nil
}

func volumeFitsNode(v *api.PersistentVolume, node *api.Node) bool {
	if v.Spec.NodeAffinity == nil || v.Spec.NodeAffinity.Required == nil {
		return true
	}
	return framework.NewNodeSelector(v.Spec.NodeAffinity.Required).Matches(node)
}

// choose picks, for each delayed claim, a static volume on node or
// dynamic provisioning; ok is false when some claim has neither.
// reserved is the volumes other pods reserved (read only).
func (pl *VolumeBinding) choose(pv *podVolumes, node *api.Node, reserved map[string]string) (static map[string]*api.PersistentVolume, dynamic []*api.PersistentVolumeClaim, ok bool) {
	if len(pv.delayed) == 0 {
		return nil, nil, true
	}
	vols := pl.Client.Volumes()
	taken := map[string]bool{}
	for _, c := range pv.delayed {
		var best *api.PersistentVolume
		for _, v := range vols {
			if taken[v.Name] || !volumeFitsClaim(v, c, reserved) || !volumeFitsNode(v, node) {
				continue
			}
			if best == nil || storageOf(v.Spec.Capacity).Cmp(storageOf(best.Spec.Capacity)) < 0 {
				best = v
			}
		}
		if best != nil {
			taken[best.Name] = true
			if static == nil {
				static = map[string]*api.PersistentVolume{}
			}
			static[claimKey(c)] = best
			continue
		}
		sc, found := pl.Client.StorageClass(claimClass(c))
		if !found || sc.Provisioner == "" || sc.Provisioner == noProvisioner || !topologyAllows(sc.AllowedTopologies, node) {
			return nil, nil, false
		}
		dynamic = append(dynamic, c)
	}
	return static, dynamic, true
}

func storageOf(rl api.ResourceList) api.Quantity { return rl[api.ResourceStorage] }

// volumeFitsClaim reports whether the volume may be bound to the claim,
// node aside.
func volumeFitsClaim(v *api.PersistentVolume, c *api.PersistentVolumeClaim, reserved map[string]string) bool {
	if v.DeletionTimestamp != nil || v.Spec.StorageClassName != claimClass(c) {
		return false
	}
	if ref := v.Spec.ClaimRef; ref != nil && (ref.Namespace != c.Namespace || ref.Name != c.Name || (ref.UID != "" && ref.UID != c.UID)) {
		return false
	}
	// Kubernetes takes only Available volumes; the example cluster has no
	// controller that moves new volumes from Pending to Available, so
	// Pending ones are taken too. Released and Failed ones are not.
	if ph := v.Status.Phase; ph == api.VolumeReleased || ph == api.VolumeFailed {
		return false
	}
	if r, ok := reserved[v.Name]; ok && r != claimKey(c) {
		return false
	}
	if want, ok := c.Spec.Resources.Requests[api.ResourceStorage]; ok && storageOf(v.Spec.Capacity).Cmp(want) < 0 {
		return false
	}
	for _, m := range c.Spec.AccessModes {
		if !slices.Contains(v.Spec.AccessModes, m) {
			return false
		}
	}
	fs := api.PersistentVolumeFilesystem
	vm, cm := v.Spec.VolumeMode, c.Spec.VolumeMode
	if vm == nil {
		vm = &fs
	}
	if cm == nil {
		cm = &fs
	}
	if *vm != *cm {
		return false
	}
	if c.Spec.Selector != nil {
		sel, err := framework.NewSelector(c.Spec.Selector)
		if err != nil || !sel.Matches(v.Labels) {
			return false
		}
	}
	return true
}

// topologyAllows reports whether a class's allowedTopologies admit the
// node (no terms admit every node).
func topologyAllows(terms []api.TopologySelectorTerm, node *api.Node) bool {
	if len(terms) == 0 {
		return true
	}
	for _, t := range terms {
		ok := true
		for _, e := range t.MatchLabelExpressions {
			if v, has := node.Labels[e.Key]; !has || !slices.Contains(e.Values, v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Reserve makes the volume choices for the node and reserves the chosen
// volumes.
func (pl *VolumeBinding) Reserve(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, nodeName string) *framework.Status {
	pv, err := readPodVolumes(state)
	if err != nil || len(pv.delayed) == 0 {
		return nil // no claims, or all bound
	}
	node, ok := pl.Client.Node(nodeName)
	if !ok {
		return framework.NewStatus(framework.Error, fmt.Sprintf("node %q is not known", nodeName))
	}
	// Choose again under the lock, so two pods never reserve one volume.
	pl.mu.Lock()
	defer pl.mu.Unlock()
	static, dynamic, ok := pl.choose(pv, node, pl.reserved)
	if !ok {
		return framework.NewStatus(framework.Unschedulable, ErrReasonBindConflict)
	}
	if pl.reserved == nil {
		pl.reserved = map[string]string{}
	}
	for key, v := range static {
		pl.reserved[v.Name] = key
	}
	pv.static, pv.dynamic = static, dynamic
	return nil
}

// Unreserve releases the pod's volumes and removes the selected-node
// annotations it wrote on claims still unbound.
func (pl *VolumeBinding) Unreserve(ctx context.Context, state *framework.CycleState, _ *framework.PodInfo, _ string) {
	pv, err := readPodVolumes(state)
	if err != nil {
		return
	}
	pl.release(pv)
	for _, c := range pv.dynamic {
		if cur, ok := pl.Client.Claim(c.Namespace, c.Name); ok && cur.Spec.VolumeName == "" && cur.Annotations[AnnotationSelectedNode] != "" {
			_ = pl.Client.SetSelectedNode(ctx, cur, "")
		}
	}
	pv.static, pv.dynamic = nil, nil
}

func (pl *VolumeBinding) release(pv *podVolumes) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for key, v := range pv.static {
		if pl.reserved[v.Name] == key {
			delete(pl.reserved, v.Name)
		}
	}
}

// PreBind binds the chosen volumes, asks for the provisioned ones, and
// waits until every claim is Bound.
func (pl *VolumeBinding) PreBind(ctx context.Context, state *framework.CycleState, _ *framework.PodInfo, nodeName string) *framework.Status {
	pv, err := readPodVolumes(state)
	if err != nil || (len(pv.static) == 0 && len(pv.dynamic) == 0) {
		return nil
	}
	for _, c := range pv.delayed {
		if v, ok := pv.static[claimKey(c)]; ok {
			if err := pl.Client.BindVolume(ctx, v, c); err != nil {
				return framework.AsStatus(fmt.Errorf("binding volume %s to claim %s: %w", v.Name, claimKey(c), err))
			}
		}
	}
	for _, c := range pv.dynamic {
		if err := pl.Client.SetSelectedNode(ctx, c, nodeName); err != nil {
			return framework.AsStatus(fmt.Errorf("selecting node %s for claim %s: %w", nodeName, claimKey(c), err))
		}
	}
	for _, c := range pv.delayed {
		if err := pl.Client.WaitBound(ctx, c.Namespace, c.Name); err != nil {
			return framework.AsStatus(fmt.Errorf("waiting for claim %s to be bound: %w", claimKey(c), err))
		}
	}
	pl.release(pv) // the volumes' claimRefs now say it
	return nil
}
