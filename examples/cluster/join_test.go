package cluster_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/cluster/clustertest"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/image"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
)

// TestJoin: a node joins with a valid token (verified cluster-info, CSR
// approved and signed), its Node appears and a pod runs on it; an expired
// token, a wrong token secret and a wrong CA hash are each refused with a
// message saying why, and no Node appears for them.
func TestJoin(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{})
	ctx := context.Background()
	cs := c.Client
	now := time.Now()
	good, err := cluster.CreateToken(ctx, cs, cluster.TokenOptions{Description: "test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := cluster.CreateToken(ctx, cs, cluster.TokenOptions{TTL: time.Minute}, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(good, ".")
	err = c.Poll(ctx, time.Minute, "cluster-info signed for the new token", func(ctx context.Context) (bool, error) {
		cm, err := cs.ConfigMaps().Get(ctx, bootstrap.ClusterInfoNamespace, bootstrap.ClusterInfoName)
		return err == nil && cm.Data[bootstrap.JWSKeyPrefix+id] != "", err
	})
	if err != nil {
		t.Fatal(err)
	}
	caHash := func() string {
		blk, _ := pem.Decode(c.Server.APIServer().PKI().CACert)
		if blk == nil {
			t.Fatal("the CA is not PEM")
		}
		ca, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return bootstrap.CAHash(ca)
	}()
	wrongHash := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, node, token, hash, want string
	}{
		{"expired token", "refused-1", expired, "", "no signature for token ID"},
		{"wrong secret", "refused-2", id + ".zzzzzzzzzzzzzzzz", "", "does not match"},
		{"wrong CA hash", "refused-3", good, wrongHash, "matches none of"},
	} {
		var hashes []string
		if tc.hash != "" {
			hashes = []string{tc.hash}
		}
		_, err := cluster.Join(ctx, cluster.JoinConfig{Server: c.Server.URL(), Token: tc.token, CACertHashes: hashes, NodeName: tc.node})
		if !errors.Is(err, cluster.ErrJoinRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrJoinRefused saying %q", tc.name, err, tc.want)
		}
	}

	joined, err := cluster.Join(ctx, cluster.JoinConfig{Server: c.Server.URL(), Token: good, CACertHashes: []string{caHash}, NodeName: "joined-1"})
	if err != nil {
		t.Fatalf("join with a valid token: %v", err)
	}
	// Rotation: a new certificate for the same node, asked for with the
	// node's own identity.
	renewed, err := cluster.RenewNodeCert(ctx, joined.Kubeconfig, cluster.JoinConfig{NodeName: "joined-1"})
	if err != nil {
		t.Fatalf("renewing the node certificate: %v", err)
	}
	oldCert, newCert := certOf(t, joined.CertPEM), certOf(t, renewed.CertPEM)
	if newCert.Subject.CommonName != "system:node:joined-1" || newCert.SerialNumber.Cmp(oldCert.SerialNumber) == 0 {
		t.Errorf("renewed certificate: CN %q serial %v (old %v)", newCert.Subject.CommonName, newCert.SerialNumber, oldCert.SerialNumber)
	}
	if at, err := cluster.RenewAt(joined.CertPEM); err != nil || !at.After(oldCert.NotBefore) || !at.Before(oldCert.NotAfter) {
		t.Errorf("RenewAt %v %v: not within the certificate's lifetime", at, err)
	}
	rt := fake.New(fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary), fake.WithNodeIP("10.0.0.99"),
		fake.WithHostname("joined-1"), fake.WithStopGrace(time.Second))
	b := image.NewBuilder(image.Config{Name: clustertest.Image, Entrypoint: []string{runtimetest.TestBinary}, Env: []string{"PATH=/"}})
	if err := b.AddBytes(runtimetest.TestBinary, []byte("simulated\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	archive, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	node, err := cluster.NewNode(cluster.NodeConfig{Name: "joined-1", Runtime: rt, NodeIP: "10.0.0.99", Kubeconfig: joined.Kubeconfig,
		SyncPeriod: 200 * time.Millisecond, NodeStatusCheckInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	nctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- node.Run(nctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("joined node: %v", err)
		}
		sbs, _ := rt.ListSandboxes(context.Background(), runtime.SandboxFilter{})
		for _, s := range sbs {
			rt.RemoveSandbox(context.Background(), s.ID)
		}
	})
	if err := c.WaitNodesReady(ctx, 2, time.Minute); err != nil {
		t.Fatal(err)
	}
	p := &api.Pod{}
	p.Namespace, p.Name = "default", "on-joined"
	p.Spec.NodeName = "joined-1"
	p.Spec.Containers = []api.Container{clustertest.Container("c", "sleep 1h")}
	if _, err := cs.Pods().Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	err = c.Poll(ctx, time.Minute, "the pod running on the joined node", func(ctx context.Context) (bool, error) {
		got, err := cs.Pods().Get(ctx, "default", "on-joined")
		return err == nil && got.Status.Phase == api.PodRunning, err
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := cs.Nodes().List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes.Items {
		names = append(names, n.Name)
	}
	if fmt.Sprint(names) != "[joined-1 node-1]" {
		t.Errorf("nodes %v, want [joined-1 node-1]: a refused join made a Node", names)
	}
}

func certOf(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		t.Fatal("not PEM")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
