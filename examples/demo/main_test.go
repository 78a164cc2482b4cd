package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `make demo` on 3 real containerd nodes (with a random
// cluster CIDR, so it does not meet other tests' subnets) and checks the
// transcript besides the demo's own checks, which fail run.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	n, _ := rand.Int(rand.Reader, big.NewInt(50))
	var out strings.Builder
	if err := run(ctx, &out, options{nodes: 3, clusterCIDR: fmt.Sprintf("10.%d.0.0/16", 100+n.Int64())}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"deployment.apps/web created", `deployment "web" successfully rolled out`, "deployment.apps/web scaled",
		"deployment.apps/web image updated", "(v1)\n", "(v2)\n", "service/web created", "pod/client created",
		"fetch done", "statefulset.apps/db created", "storageclass.storage.k8s.io/local-path created",
		"data-db-0", "data-db-1", "Bound", "$ kubectl exec db-0 -- /web cat /data/owner\ndb-0\n",
		"command terminated with exit code 1", "$ kubectl top nodes\n", `node "node-3" deleted`,
		"every node removed its containers and its bridge",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, out.String())
		}
	}
}
