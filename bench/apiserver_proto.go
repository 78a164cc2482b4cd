package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
)

// apiserver-create-c64-proto: pod creates per second through client-go's
// default clientset (protobuf bodies and responses) from 64 goroutines,
// against the same creates through the same clientset configured for
// JSON, in the same run and against the same server (the best of two
// alternating rounds each). Goal: ratio >= 1.0.

func init() {
	register("apiserver-proto", benchAPIServerProto)
}

func benchAPIServerProto(ctx context.Context) ([]Result, error) {
	pb, js, err := apiCreateProto(ctx)
	if err != nil {
		return nil, fmt.Errorf("apiserver-create-c64-proto: %w", err)
	}
	return []Result{{Name: "apiserver-create-c64-proto", Ours: pb, Anchor: js, Unit: "creates/s", HigherIsBetter: true}}, nil
}

func clientGoPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.27"}}}}
}

func apiCreateProto(ctx context.Context) (proto, json float64, err error) {
	srv0, stop, err := startBenchEtcd(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer stop()
	dir, err := os.MkdirTemp("", "setpoint-bench-apiserver-proto-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	srv, stopSrv, err := startAPIServer(ctx, apiserver.Config{DataDir: dir, Backend: srv0.Backend(), Listen: "127.0.0.1:0", MaxInflight: 1000})
	if err != nil {
		return 0, 0, err
	}
	defer stopSrv()
	pki := srv.PKI()
	// client-go's defaults but no client-side rate limit (QPS < 0).
	cfg := &rest.Config{Host: srv.URL(), QPS: -1, TLSClientConfig: rest.TLSClientConfig{CAData: pki.CACert, CertData: pki.AdminCert, KeyData: pki.AdminKey}}
	var pbBodies, jsonBodies atomic.Int64
	cfg.Wrap(countBodies(&pbBodies, "application/vnd.kubernetes.protobuf"))
	pbClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, 0, err
	}
	jcfg := rest.CopyConfig(cfg)
	jcfg.ContentType, jcfg.AcceptContentTypes = "application/json", "application/json"
	jcfg.WrapTransport = countBodies(&jsonBodies, "application/json")
	jsonClient, err := kubernetes.NewForConfig(jcfg)
	if err != nil {
		return 0, 0, err
	}
	for round := range 2 {
		p, err := hammer(ctx, apiCreateClients, apiCreateDur, func(ctx context.Context, w, i int) error {
			_, err := pbClient.CoreV1().Pods("default").Create(ctx, clientGoPod(fmt.Sprintf("p%d-%d-%d", round, w, i)), metav1.CreateOptions{})
			return err
		})
		if err != nil {
			return 0, 0, fmt.Errorf("protobuf: %w", err)
		}
		j, err := hammer(ctx, apiCreateClients, apiCreateDur, func(ctx context.Context, w, i int) error {
			_, err := jsonClient.CoreV1().Pods("default").Create(ctx, clientGoPod(fmt.Sprintf("j%d-%d-%d", round, w, i)), metav1.CreateOptions{})
			return err
		})
		if err != nil {
			return 0, 0, fmt.Errorf("JSON: %w", err)
		}
		proto, json = max(proto, p), max(json, j)
	}
	if pbBodies.Load() == 0 || jsonBodies.Load() == 0 {
		return 0, 0, fmt.Errorf("responses in the expected encoding: %d protobuf, %d JSON", pbBodies.Load(), jsonBodies.Load())
	}
	return proto, json, nil
}

// countBodies counts the responses of a transport in media type mt, to
// check that each client spoke the encoding it is measured for.
func countBodies(n *atomic.Int64, mt string) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if err == nil && r.Method == http.MethodPost && resp.StatusCode == http.StatusCreated && resp.Header.Get("Content-Type") == mt {
				n.Add(1)
			}
			return resp, err
		})
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
