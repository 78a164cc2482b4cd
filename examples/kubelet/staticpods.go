package kubelet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// The annotations of static pods and their mirror pods, Kubernetes'.
const (
	// AnnotationConfigMirror marks a mirror pod; its value is the static
	// pod's hash.
	AnnotationConfigMirror = "kubernetes.io/config.mirror"
	// AnnotationConfigHash is the hash of the static pod's manifest.
	AnnotationConfigHash = "kubernetes.io/config.hash"
	// AnnotationConfigSource is where the pod comes from ("file").
	AnnotationConfigSource = "kubernetes.io/config.source"
)

// staticPod is a manifest read from Config.StaticPodPath.
type staticPod struct {
	pod  *api.Pod
	hash string
}

// readStaticPods parses the manifests (*.yaml, *.yml, *.json) of dir into
// the pods they describe, named <name>-<node> in their namespace (default
// "default"), bound to the node and annotated with their hash. A file that
// cannot be used is skipped, with an error naming it in bad.
func readStaticPods(dir, node string) (out map[string]staticPod, bad []error, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("static pods: %w", err)
	}
	out = map[string]staticPod{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		pod, hash, err := readStaticPod(p, node)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		key := pod.Namespace + "/" + pod.Name
		if _, dup := out[key]; dup {
			bad = append(bad, fmt.Errorf("static pod %s: pod %s is also defined by another file", p, key))
			continue
		}
		out[key] = staticPod{pod: pod, hash: hash}
	}
	return out, bad, nil
}

// readStaticPod reads one manifest.
func readStaticPod(p, node string) (*api.Pod, string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, "", fmt.Errorf("static pod %s: %w", p, err)
	}
	pod := &api.Pod{}
	if err := yaml.UnmarshalStrict(b, pod); err != nil {
		return nil, "", fmt.Errorf("static pod %s: %w", p, err)
	}
	if pod.Kind != "Pod" || pod.APIVersion != "v1" {
		return nil, "", fmt.Errorf("static pod %s: kind %q apiVersion %q, want Pod v1", p, pod.Kind, pod.APIVersion)
	}
	if pod.Name == "" || len(pod.Spec.Containers) == 0 {
		return nil, "", fmt.Errorf("static pod %s: metadata.name and spec.containers are required", p)
	}
	sum := sha256.Sum256(append(b, node...))
	hash := hex.EncodeToString(sum[:16])
	if pod.Namespace == "" {
		pod.Namespace = "default"
	}
	pod.Name = pod.Name + "-" + node
	pod.Spec.NodeName = node
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AnnotationConfigMirror] = hash
	pod.Annotations[AnnotationConfigHash] = hash
	pod.Annotations[AnnotationConfigSource] = "file"
	return pod, hash, nil
}

// syncStaticPods makes the mirror pods in the apiserver match the
// manifests: a new manifest gets its mirror pod; a changed one has its old
// mirror pod deleted (gracefully, so the kubelet stops it) and, once that
// is gone, a new one created; a removed one has its mirror pod deleted.
// The kubelet then runs mirror pods like any pod bound to the node.
func (k *Kubelet) syncStaticPods(ctx context.Context) error {
	want, bad, err := readStaticPods(k.cfg.StaticPodPath, k.cfg.NodeName)
	if err != nil {
		return err
	}
	pods := k.cfg.Client.Pods()
	var errs []string
	for _, err := range bad {
		errs = append(errs, err.Error())
	}
	keys := make([]string, 0, len(want))
	for key := range want {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		sp := want[key]
		cur, err := pods.Get(ctx, sp.pod.Namespace, sp.pod.Name)
		switch {
		case isNotFound(err):
			if _, err := pods.Create(ctx, sp.pod.DeepCopy()); err != nil && !strings.Contains(err.Error(), "exists") {
				errs = append(errs, fmt.Sprintf("creating mirror pod %s: %v", key, err))
			} else if err == nil {
				k.log.Info("created the mirror pod of a static pod", "pod", key)
			}
		case err != nil:
			errs = append(errs, fmt.Sprintf("reading mirror pod %s: %v", key, err))
		case cur.Annotations[AnnotationConfigMirror] != sp.hash && cur.DeletionTimestamp == nil:
			k.log.Info("static pod manifest changed; replacing its mirror pod", "pod", key)
			if _, err := pods.Delete(ctx, cur.Namespace, cur.Name, store.WithPreconditionUID(cur.UID)); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Sprintf("deleting mirror pod %s: %v", key, err))
			}
		}
	}
	// Mirror pods of this node whose manifest is gone.
	l, err := k.pods.List(ctx, "", store.ListOptions{})
	if err != nil {
		return fmt.Errorf("static pods: listing the node's pods: %w", err)
	}
	for _, p := range l.Items {
		if _, mirror := p.Annotations[AnnotationConfigMirror]; !mirror || p.DeletionTimestamp != nil {
			continue
		}
		if _, ok := want[p.Namespace+"/"+p.Name]; ok {
			continue
		}
		k.log.Info("static pod manifest removed; deleting its mirror pod", "pod", podKey(p))
		if _, err := pods.Delete(ctx, p.Namespace, p.Name, store.WithPreconditionUID(p.UID)); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Sprintf("deleting mirror pod %s: %v", podKey(p), err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("static pods: %s", strings.Join(errs, "; "))
	}
	return nil
}

// runStaticPods syncs the static pods every SyncPeriod until ctx ends;
// errors are logged (a bad manifest must not stop the node).
func (k *Kubelet) runStaticPods(ctx context.Context) error {
	if k.cfg.StaticPodPath == "" {
		return nil
	}
	var last string
	for {
		err := k.syncStaticPods(ctx)
		if err != nil && ctx.Err() == nil && err.Error() != last {
			k.log.Warn("syncing static pods", "err", err)
		}
		last = ""
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-k.cfg.Clock.After(k.cfg.SyncPeriod):
		}
	}
}
