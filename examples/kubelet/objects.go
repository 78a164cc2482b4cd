package kubelet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// objectSyncTimeout bounds the wait for the first list of a new object
// watch (Kubernetes' kubelet fails the pod's sync with "failed to sync
// configmap cache" after a similar wait, and retries).
const objectSyncTimeout = 30 * time.Second

// objectWatches is the kubelet's watch-based manager of the ConfigMaps
// and Secrets its pods use, as Kubernetes' kubelet has one: each object a
// pod reads gets one watch (a list and watch with the field selector
// metadata.name=<n> in its namespace, which the Node authorizer allows
// for the objects of the node's pods), shared by every pod that uses it
// and stopped when the last of them is released. A change to the object
// re-syncs its pods at once, so configMap and secret volumes follow it
// without waiting for the sync period.
type objectWatches struct {
	mu sync.Mutex
	w  map[objectKey]*objectWatch
	// byPod: the objects each pod (by UID) uses.
	byPod map[string]*podObjects
}

// podObjects is a pod and the objects it uses.
type podObjects struct {
	pod  reconcile.Request
	keys map[objectKey]bool
}

// objectKey names a watched object.
type objectKey struct{ resource, namespace, name string }

// objectWatch is the watch of one object.
type objectWatch struct {
	users  map[string]reconcile.Request // pod UID -> pod
	get    func() (store.Object, bool)
	synced func(ctx context.Context) error
	stop   context.CancelFunc
}

// configMap returns the ConfigMap namespace/name the pod uses, from its
// watch (started when the first pod asks); an error wrapping
// store.ErrNotFound when it does not exist.
func (k *Kubelet) configMap(ctx context.Context, pod *api.Pod, name string) (*api.ConfigMap, error) {
	cs := k.cfg.Client
	return watchedObject[*api.ConfigMap](ctx, k, pod, "configmaps", name, func() (*rest.Client[*api.ConfigMap], error) {
		return rest.NewClient[*api.ConfigMap](cs.HTTPClient(), cs.Server(), cs.ConfigMaps().Resource(),
			rest.WithFieldSelector("metadata.name="+name))
	})
}

// secret is configMap for Secrets.
func (k *Kubelet) secret(ctx context.Context, pod *api.Pod, name string) (*api.Secret, error) {
	cs := k.cfg.Client
	return watchedObject[*api.Secret](ctx, k, pod, "secrets", name, func() (*rest.Client[*api.Secret], error) {
		return rest.NewClient[*api.Secret](cs.HTTPClient(), cs.Server(), cs.Secrets().Resource(),
			rest.WithFieldSelector("metadata.name="+name))
	})
}

// watchedObject registers pod as a user of the object resource
// pod.Namespace/name, starting its watch if none runs, waits for the
// watch's first list, and returns the object.
func watchedObject[T store.Object](ctx context.Context, k *Kubelet, pod *api.Pod, resource, name string, client func() (*rest.Client[T], error)) (T, error) {
	var zero T
	key := objectKey{resource, pod.Namespace, name}
	w, err := k.objectWatch(key, pod, func(runCtx context.Context) (*objectWatch, error) {
		c, err := client()
		if err != nil {
			return nil, err
		}
		inf, err := informer.New[T](c, informer.Config[T]{Name: "kubelet-" + resource + "-" + pod.Namespace + "-" + name,
			Namespace: pod.Namespace, Clock: k.cfg.Clock, Logger: k.log})
		if err != nil {
			return nil, err
		}
		w := &objectWatch{users: map[string]reconcile.Request{},
			get:    func() (store.Object, bool) { return inf.Get(key.namespace, key.name) },
			synced: inf.WaitForSync}
		changed := func() { k.objectChanged(key) }
		if _, err := inf.AddHandler(informer.HandlerFuncs[T]{
			AddFunc: func(_ T, initial bool) {
				if !initial { // the first list: the pod that started the watch reads it
					changed()
				}
			},
			UpdateFunc: func(T, T) { changed() },
			DeleteFunc: func(T, bool) { changed() },
		}); err != nil {
			return nil, err
		}
		wctx, stop := context.WithCancel(runCtx)
		w.stop = stop
		go func() {
			if err := inf.Run(wctx); err != nil && wctx.Err() == nil {
				k.log.Warn("watch of a pod's object ended", "resource", resource, "object", key.namespace+"/"+key.name, "err", err)
			}
		}()
		return w, nil
	})
	if err != nil {
		return zero, fmt.Errorf("watching %s %s/%s: %w", resource, pod.Namespace, name, err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := k.cfg.Clock.AfterFunc(objectSyncTimeout, cancel)
	defer timer.Stop()
	if err := w.synced(wctx); err != nil {
		return zero, fmt.Errorf("failed to sync %s cache for %s/%s: %w", resource, pod.Namespace, name, err)
	}
	obj, ok := w.get()
	if !ok {
		return zero, fmt.Errorf("%w: %s %s/%s", store.ErrNotFound, resource, pod.Namespace, name)
	}
	t, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("watch of %s %s/%s holds a %T", resource, pod.Namespace, name, obj)
	}
	return t, nil
}

// objectWatch returns the watch of key with pod registered as its user,
// starting it with start when none runs.
func (k *Kubelet) objectWatch(key objectKey, pod *api.Pod, start func(runCtx context.Context) (*objectWatch, error)) (*objectWatch, error) {
	k.mu.Lock()
	runCtx := k.probeCtx
	k.mu.Unlock()
	if runCtx == nil {
		return nil, errors.New("the kubelet is not running")
	}
	ow := &k.objs
	ow.mu.Lock()
	defer ow.mu.Unlock()
	if ow.w == nil {
		ow.w, ow.byPod = map[objectKey]*objectWatch{}, map[string]*podObjects{}
	}
	w := ow.w[key]
	if w == nil {
		var err error
		if w, err = start(runCtx); err != nil {
			return nil, err
		}
		ow.w[key] = w
	}
	uid, req := string(pod.UID), reconcile.Request{Namespace: pod.Namespace, Name: pod.Name}
	w.users[uid] = req
	p := ow.byPod[uid]
	if p == nil {
		p = &podObjects{pod: req, keys: map[objectKey]bool{}}
		ow.byPod[uid] = p
	}
	p.keys[key] = true
	return w, nil
}

// objectChanged re-syncs every pod that uses the object.
func (k *Kubelet) objectChanged(key objectKey) {
	k.objs.mu.Lock()
	var reqs []reconcile.Request
	if w := k.objs.w[key]; w != nil {
		for _, r := range w.users {
			reqs = append(reqs, r)
		}
	}
	k.objs.mu.Unlock()
	for _, r := range reqs {
		k.ctl.Queue().Add(r)
	}
}

// releaseObjects unregisters the pod of uid from the watches of the
// objects it used, stopping those no pod uses any more.
func (k *Kubelet) releaseObjects(uid string) {
	ow := &k.objs
	ow.mu.Lock()
	defer ow.mu.Unlock()
	ow.release(uid)
}

// releaseObjectsOf releases every pod named req but the one of UID keep
// ("" for none): a pod gone from the apiserver, or replaced by a new pod
// of the same name.
func (k *Kubelet) releaseObjectsOf(req reconcile.Request, keep string) {
	ow := &k.objs
	ow.mu.Lock()
	defer ow.mu.Unlock()
	for uid, p := range ow.byPod {
		if uid != keep && p.pod == req {
			ow.release(uid)
		}
	}
}

// release is releaseObjects with ow.mu held.
func (ow *objectWatches) release(uid string) {
	p := ow.byPod[uid]
	if p == nil {
		return
	}
	for key := range p.keys {
		w := ow.w[key]
		if w == nil {
			continue
		}
		delete(w.users, uid)
		if len(w.users) == 0 {
			w.stop()
			delete(ow.w, key)
		}
	}
	delete(ow.byPod, uid)
}

// watchedObjects returns how many object watches run (for tests).
func (k *Kubelet) watchedObjects() int {
	k.objs.mu.Lock()
	defer k.objs.mu.Unlock()
	return len(k.objs.w)
}
