package controllerutil

import (
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// PodDeletionCostAnnotation lets users say which pods of a replica set to
// delete first on scale-down: lower cost first (a signed 32-bit integer;
// anything else counts as 0). It is Kubernetes'
// controller.kubernetes.io/pod-deletion-cost.
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// phaseOrder ranks phases for deletion: Pending first, then Unknown, then
// Running (anything else sorts first, as an empty phase does).
func phaseOrder(p api.PodPhase) int {
	switch p {
	case api.PodPending:
		return 1
	case api.PodUnknown:
		return 2
	case api.PodRunning:
		return 3
	}
	return 0
}

func deletionCost(p *api.Pod) int32 {
	v, ok := p.Annotations[PodDeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

func maxRestarts(p *api.Pod) (regular, sidecar int32) {
	for _, c := range p.Status.ContainerStatuses {
		regular = max(regular, c.RestartCount)
	}
	sidecars := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == "Always" {
			sidecars[c.Name] = true
		}
	}
	for _, c := range p.Status.InitContainerStatuses {
		if sidecars[c.Name] {
			sidecar = max(sidecar, c.RestartCount)
		}
	}
	return regular, sidecar
}

// logBucket is floor(log2(now - t)) in nanoseconds, or -1 for a time not
// before now.
func logBucket(t, now time.Time) int64 {
	d := now.Sub(t)
	if d <= 0 {
		return -1
	}
	return int64(math.Log2(float64(d)))
}

// rankedPods sorts pods so that the ones to delete first come first.
type rankedPods struct {
	pods  []*api.Pod
	ranks []int
	now   time.Time
}

func (s rankedPods) Len() int { return len(s.pods) }
func (s rankedPods) Swap(i, j int) {
	s.pods[i], s.pods[j] = s.pods[j], s.pods[i]
	s.ranks[i], s.ranks[j] = s.ranks[j], s.ranks[i]
}

// youngerFirst orders two different times: a zero time first, otherwise
// the later one first when their log2 ages differ, and by UID when they
// fall in the same log2 bucket (so equal-aged pods are picked at random,
// not always the newest). It reports whether the first goes first.
func youngerFirst(ti, tj, now time.Time, uidI, uidJ string) bool {
	if now.IsZero() || ti.IsZero() || tj.IsZero() {
		if ti.IsZero() || tj.IsZero() {
			return ti.IsZero()
		}
		return ti.After(tj)
	}
	d := logBucket(ti, now) - logBucket(tj, now)
	if d == 0 {
		return uidI < uidJ
	}
	return d < 0
}

// Less follows Kubernetes' ActivePodsWithRanks with LogarithmicScaleDown
// and PodDeletionCost (both on by default):
//  1. unscheduled before scheduled;
//  2. Pending before Unknown before Running;
//  3. not Ready before Ready;
//  4. lower pod-deletion-cost first;
//  5. more related pods on the same node first (the rank);
//  6. if both Ready: ready more recently first (log2 buckets of the time
//     since, ties by UID);
//  7. more container restarts first (regular containers, then sidecars);
//  8. created more recently first (log2 buckets, ties by UID).
func (s rankedPods) Less(i, j int) bool {
	a, b := s.pods[i], s.pods[j]
	if a.Spec.NodeName != b.Spec.NodeName && (a.Spec.NodeName == "" || b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if pa, pb := phaseOrder(a.Status.Phase), phaseOrder(b.Status.Phase); pa != pb {
		return pa < pb
	}
	ra, rb := IsPodReady(a), IsPodReady(b)
	if ra != rb {
		return !ra
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if s.ranks[i] != s.ranks[j] {
		return s.ranks[i] > s.ranks[j]
	}
	if ra && rb {
		ta, tb := PodReadyTime(a), PodReadyTime(b)
		if !ta.Equal(tb) {
			return youngerFirst(ta, tb, s.now, a.UID, b.UID)
		}
	}
	rega, sca := maxRestarts(a)
	regb, scb := maxRestarts(b)
	if rega != regb {
		return rega > regb
	}
	if sca != scb {
		return sca > scb
	}
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return youngerFirst(ta, tb, s.now, a.UID, b.UID)
	}
	return false
}

// PodsToDelete returns the n pods of pods to delete first, ranked as
// Kubernetes' replica set controller ranks them (see rankedPods.Less):
// a pod's rank is how many active pods of related (the same node, among
// related: the pods of every replica set with the same owner) share its
// node. pods is reordered; the result is a prefix of it. n >= len(pods)
// returns pods unsorted, as there is nothing to choose.
func PodsToDelete(pods, related []*api.Pod, n int, now time.Time) []*api.Pod {
	if n <= 0 {
		return nil
	}
	if n >= len(pods) {
		return pods
	}
	onNode := map[string]int{}
	for _, p := range related {
		if IsPodActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	ranks := make([]int, len(pods))
	for i, p := range pods {
		ranks[i] = onNode[p.Spec.NodeName]
	}
	sort.Sort(rankedPods{pods: pods, ranks: ranks, now: now})
	return pods[:n]
}
