package controllerutil

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
)

// safeAlphabet is the alphabet hashes are written in: no vowels (no words)
// and no look-alikes (0, 1, 3), as in Kubernetes' rand.SafeEncodeString.
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// safeEncode maps each byte of s into safeAlphabet.
func safeEncode(s string) string {
	out := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = safeAlphabet[int(s[i])%len(safeAlphabet)]
	}
	return string(out)
}

// ComputeHash returns the hash that names what a workload runs: FNV-32a of
// the object's JSON encoding (deterministic: struct order, sorted map keys)
// followed by the collision count when there is one, written in the safe
// alphabet. Deployments label their replica sets' pods with it
// (pod-template-hash); StatefulSets and DaemonSets name revisions with it.
// Kubernetes hashes a debug print of the Go value instead; the hashes
// differ from Kubernetes' but follow the same rules (equal templates, equal
// hash; a collision count changes it).
func ComputeHash(obj any, collisionCount *int32) string {
	h := fnv.New32a()
	data, err := json.Marshal(obj)
	if err != nil {
		// The API types always encode; keep the hash defined anyway.
		data = fmt.Appendf(nil, "%#v", obj)
	}
	h.Write(data)
	if collisionCount != nil {
		var b [8]byte
		binary.LittleEndian.PutUint32(b[:4], uint32(*collisionCount))
		h.Write(b[:4])
	}
	return safeEncode(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// ControllerRevisionHashLabel labels a revision (and the pods created from
// it) with its hash, as Kubernetes' controller.kubernetes.io/hash does.
const ControllerRevisionHashLabel = "controller-revision-hash"

// NewControllerRevision returns the revision of a workload's state data
// (usually a patch holding the pod template) for owner: named
// "<owner>-<hash>", labelled with templateLabels and the hash, controlled
// by owner, with the given revision number. This is Kubernetes'
// history.NewControllerRevision.
func NewControllerRevision(owner store.Object, res store.Resource, templateLabels map[string]string, data []byte, revision int64, collisionCount *int32) *apps.ControllerRevision {
	m := owner.GetObjectMeta()
	cr := &apps.ControllerRevision{Revision: revision}
	cr.Data = api.RawExtension{Raw: append([]byte(nil), data...)}
	hash := ComputeHash(cr.Data, collisionCount)
	cr.Namespace = m.Namespace
	cr.Name = revisionName(m.Name, hash)
	cr.Labels = make(map[string]string, len(templateLabels)+1)
	for k, v := range templateLabels {
		cr.Labels[k] = v
	}
	cr.Labels[ControllerRevisionHashLabel] = hash
	cr.OwnerReferences = []store.OwnerReference{ControllerRef(owner, res)}
	return cr
}

// revisionName joins the owner's name and the hash, cutting the name so
// the result has at most 253 characters.
func revisionName(owner, hash string) string {
	if max := 252 - len(hash); len(owner) > max {
		owner = owner[:max]
	}
	return owner + "-" + hash
}

// SortRevisions orders revisions by revision number, then creation time,
// then name: oldest first, as Kubernetes' history.SortControllerRevisions.
func SortRevisions(revs []*apps.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(b.CreationTimestamp.Time) {
			return a.CreationTimestamp.Before(b.CreationTimestamp.Time)
		}
		return a.Name < b.Name
	})
}

// NextRevision returns one more than the highest revision number of revs
// (1 for none).
func NextRevision(revs []*apps.ControllerRevision) int64 {
	var n int64
	for _, r := range revs {
		n = max(n, r.Revision)
	}
	return n + 1
}

// EqualRevision reports whether two revisions hold the same data.
func EqualRevision(a, b *apps.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	return string(a.Data.Raw) == string(b.Data.Raw)
}
