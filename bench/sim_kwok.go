package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodelease "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
	"sigs.k8s.io/kwok/pkg/client/clientset/versioned"
	"sigs.k8s.io/kwok/pkg/config"
	"sigs.k8s.io/kwok/pkg/kwok/controllers"
	kwoklog "sigs.k8s.io/kwok/pkg/log"
	kwokclient "sigs.k8s.io/kwok/pkg/utils/client"
)

// startKWOK runs the KWOK controller in g, built as its command builds it
// (pkg/kwok/cmd/root.go), with the default fast node and pod stages and
// node Leases, managing the Nodes labelled kwokNodeLabel.
func startKWOK(ctx context.Context, g *errgroup.Group, kubeconfig []byte, dir string) error {
	path := filepath.Join(dir, "kwok.kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return err
	}
	cs, err := kwokclient.NewClientset("", path)
	if err != nil {
		return err
	}
	restConfig, err := cs.ToRESTConfig()
	if err != nil {
		return err
	}
	restConfig.QPS, restConfig.Burst = 5000, 10000
	dyn, err := cs.ToDynamicClient()
	if err != nil {
		return err
	}
	mapper, err := cs.ToRESTMapper()
	if err != nil {
		return err
	}
	restClient, err := rest.RESTClientFor(restConfig)
	if err != nil {
		return err
	}
	typed, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	kwokTyped, err := versioned.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	stages := map[internalversion.StageResourceRef][]*internalversion.Stage{}
	for _, raw := range []string{fast.DefaultNodeInit, nodelease.DefaultNodeHeartbeatWithLease, podfast.DefaultPodReady, podfast.DefaultPodComplete, podfast.DefaultPodDelete} {
		st, err := config.UnmarshalWithType[*internalversion.Stage](raw)
		if err != nil {
			return fmt.Errorf("kwok stage: %w", err)
		}
		stages[st.Spec.ResourceRef] = append(stages[st.Spec.ResourceRef], st)
	}
	ctr, err := controllers.NewController(controllers.Config{
		Clock: clock.RealClock{}, DynamicClient: dyn, RESTClient: restClient, RESTMapper: mapper,
		ImpersonatingDynamicClient: cs.ToImpersonatingDynamicClient(), ImpersonatingTypedClient: cs.ToImpersonatingTypedClient(),
		TypedClient: typed, TypedKwokClient: kwokTyped, ManageNodesWithLabelSelector: kwokNodeLabel + "=true",
		CIDR: "10.0.0.1/24", NodeIP: "10.0.0.1", NodeLeaseDurationSeconds: 40, NodeLeaseParallelism: 16,
		PodPlayStageParallelism: 16, NodePlayStageParallelism: 16, PodsOnNodeSyncParallelism: 16, LocalStages: stages, ID: "bench",
	})
	if err != nil {
		return err
	}
	// KWOK logs every patch; errors only.
	if err := ctr.Start(kwoklog.NewContext(ctx, kwoklog.NewLogger(nil, kwoklog.LevelError))); err != nil {
		return fmt.Errorf("starting the kwok controller: %w", err)
	}
	g.Go(func() error { <-ctx.Done(); return nil })
	return nil
}
