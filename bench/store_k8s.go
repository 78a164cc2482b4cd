package main

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/etcd3"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
)

// k8sPodStorage is Kubernetes' own storage layer for pods
// (k8s.io/apiserver/pkg/storage/etcd3) over the given etcd client, with the
// codec kube-apiserver stores core objects with by default (protobuf,
// --storage-media-type's default) and no encryption (the identity
// transformer), as a cluster without an EncryptionConfiguration has.
func k8sPodStorage(c *clientv3.Client) (storage.Interface, func(), error) {
	codecs := clientgoscheme.Codecs
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		return nil, nil, fmt.Errorf("k8s storage: no protobuf serializer")
	}
	gv := corev1.SchemeGroupVersion
	codec := codecs.CodecForVersions(info.Serializer, codecs.UniversalDeserializer(), gv, gv)
	kc := &kubernetes.Client{Client: c}
	kc.Kubernetes = kc
	versioner := storage.APIObjectVersioner{}
	compactor := etcd3.NewCompactor(c, 0, clock.RealClock{}, nil)
	s, err := etcd3.New(kc, compactor, codec,
		func() runtime.Object { return &corev1.Pod{} },
		func() runtime.Object { return &corev1.PodList{} },
		"/k8s", "/pods/", schema.GroupResource{Resource: "pods"},
		identity.NewEncryptCheckTransformer(), etcd3.NewDefaultLeaseManagerConfig(),
		etcd3.NewDefaultDecoder(codec, versioner), versioner)
	if err != nil {
		compactor.Stop()
		return nil, nil, fmt.Errorf("k8s storage: %w", err)
	}
	return s, func() { s.Close(); compactor.Stop() }, nil
}

// newK8sBenchPod is newStoreBenchPod as a Kubernetes Pod: the same name,
// namespace, labels, container and environment, and the metadata our store
// sets on create (uid, creation time), as kube-apiserver's registry would
// before it calls storage.
func newK8sBenchPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: name, Labels: map[string]string{"app": "web", "tier": "front"},
			UID: "5f0c6b8e-3f43-4c1e-9a55-0d6c4f1b2a77", CreationTimestamp: metav1.Now(), Generation: 1},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1.2.3", Args: []string{"--port=8080", "--verbose"},
				Env: []corev1.EnvVar{{Name: "MODE", Value: "production"}, {Name: "REGION", Value: "eu-west"}}}},
		},
	}
}

// k8sCreate is one create through Kubernetes' storage, as its registry
// calls it: Create(key, obj, out, ttl 0), the written object decoded into
// out.
func k8sCreate(s storage.Interface) func(prefix string) func(ctx context.Context, w, seq int) error {
	return func(prefix string) func(ctx context.Context, w, seq int) error {
		return func(ctx context.Context, w, seq int) error {
			name := fmt.Sprintf("%s-%d-%d", prefix, w, seq)
			return s.Create(ctx, "/pods/bench/"+name, newK8sBenchPod(name), &corev1.Pod{}, 0)
		}
	}
}
