package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/kube"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
)

// TestHelmAgainstAPIServer: Helm v4's Go packages, configured as the helm
// CLI configures them (server-side apply on install, "auto" on upgrade,
// releases kept in Secrets, wait for hooks only), install, upgrade, list
// and uninstall the chart that `helm create` makes, against the example
// apiserver; every object the chart renders is really created, changed and
// removed.
func TestHelmAgainstAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	_, stop, err := startAPIServer(ctx, apiserver.Config{DataDir: dir, Listen: "127.0.0.1:0", KubeconfigOut: kc, EtcdNoFsync: true, EtcdLogLevel: "off"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() })
	restCfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}

	chartDir, err := chartutil.Create("demo", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}

	const ns = "default"
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kc
	namespace := ns
	flags.Namespace = &namespace
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)).Handler()))
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatal(err)
	}

	// install, as `helm install demo ./demo` does
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace = "demo", ns
	in.WaitStrategy, in.Timeout = kube.HookOnlyStrategy, time.Minute
	rel, err := in.RunWithContext(ctx, loaded, map[string]any{})
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	if r := asRelease(t, rel); r.Info.Status != "deployed" || r.Version != 1 {
		t.Fatalf("after install: status %s revision %d, want deployed 1", r.Info.Status, r.Version)
	}
	dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the chart's Deployment: %v", err)
	}
	if *dep.Spec.Replicas != 1 || dep.Labels["app.kubernetes.io/managed-by"] != "Helm" || len(dep.ManagedFields) == 0 {
		t.Fatalf("Deployment after install: replicas %d labels %v managedFields %d", *dep.Spec.Replicas, dep.Labels, len(dep.ManagedFields))
	}
	for what, get := range map[string]func() error{
		"Service": func() error { _, err := cs.CoreV1().Services(ns).Get(ctx, "demo", metav1.GetOptions{}); return err },
		"ServiceAccount": func() error {
			_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "demo", metav1.GetOptions{})
			return err
		},
		"release Secret": func() error {
			s, err := cs.CoreV1().Secrets(ns).Get(ctx, "sh.helm.release.v1.demo.v1", metav1.GetOptions{})
			if err == nil && (s.Type != "helm.sh/release.v1" || s.Labels["owner"] != "helm") {
				t.Errorf("release Secret: type %q labels %v", s.Type, s.Labels)
			}
			return err
		},
	} {
		if err := get(); err != nil {
			t.Fatalf("the chart's %s: %v", what, err)
		}
	}

	// upgrade with a changed value, as `helm upgrade demo ./demo --set replicaCount=3`
	up := action.NewUpgrade(cfg)
	up.Namespace, up.WaitStrategy, up.Timeout = ns, kube.HookOnlyStrategy, time.Minute
	rel, err = up.RunWithContext(ctx, "demo", loaded, map[string]any{"replicaCount": 3})
	if err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	if r := asRelease(t, rel); r.Info.Status != "deployed" || r.Version != 2 {
		t.Fatalf("after upgrade: status %s revision %d, want deployed 2", r.Info.Status, r.Version)
	}
	if dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "demo", metav1.GetOptions{}); err != nil || *dep.Spec.Replicas != 3 {
		t.Fatalf("Deployment after upgrade: %v, want 3 replicas", err)
	}

	// list, as `helm list`
	list := action.NewList(cfg)
	list.SetStateMask()
	rels, err := list.Run()
	if err != nil {
		t.Fatalf("helm list: %v", err)
	}
	if len(rels) != 1 || asRelease(t, rels[0]).Name != "demo" || asRelease(t, rels[0]).Version != 2 {
		t.Fatalf("helm list: %d releases, want demo at revision 2", len(rels))
	}

	// uninstall, as `helm uninstall demo`
	un := action.NewUninstall(cfg)
	un.WaitStrategy, un.Timeout = kube.HookOnlyStrategy, time.Minute
	if _, err := un.Run("demo"); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	waitFor(t, ctx, "the chart's objects to be deleted", func() bool {
		_, e1 := cs.AppsV1().Deployments(ns).Get(ctx, "demo", metav1.GetOptions{})
		_, e2 := cs.CoreV1().Services(ns).Get(ctx, "demo", metav1.GetOptions{})
		_, e3 := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "demo", metav1.GetOptions{})
		return apierrors.IsNotFound(e1) && apierrors.IsNotFound(e2) && apierrors.IsNotFound(e3)
	})
	if rels, err := action.NewList(cfg).Run(); err != nil || len(rels) != 0 {
		t.Fatalf("helm list after uninstall: %d releases, %v", len(rels), err)
	}
	secrets, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil || len(secrets.Items) != 0 {
		t.Fatalf("release Secrets after uninstall: %v %v", secrets, err)
	}
}

// asRelease is the v1 release behind Helm's Releaser interface.
func asRelease(t *testing.T, r any) *releasev1.Release {
	t.Helper()
	rel, ok := r.(*releasev1.Release)
	if !ok {
		t.Fatalf("release is a %T, want *release/v1.Release", r)
	}
	return rel
}
