package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, &out); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"pod/web created", "deployment.apps/frontend created", "deployment.apps/frontend unchanged",
		"deployment.apps/frontend scaled", "\n4\n", "pod/web labeled", "pod/web patched", "MODIFIED",
		`pod "web" deleted`, `deployment.apps "frontend" deleted`, "shutting the apiserver down",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, out.String())
		}
	}
}
