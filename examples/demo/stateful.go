package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
)

// statefulYAML is a StorageClass of the local volume provisioner, the
// headless Service of the StatefulSet db, and db itself: 2 replicas, each
// with a claim data-db-<i> from its volumeClaimTemplate, mounted at /data,
// where the web server writes its pod's name.
const statefulYAML = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
provisioner: setpoint.dev/local-path
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {name: http, port: 8080}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: setpoint.demo/web:v2
        imagePullPolicy: Never
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - {name: DATA_DIR, value: /data}
        volumeMounts:
        - {name: data, mountPath: /data}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: local-path
      resources: {requests: {storage: 16Mi}}
`

// statefulSteps applies the StatefulSet with its headless Service and
// claims, waits for its rollout, and checks that both pods run with
// their own bound claim, each holding the file its pod wrote.
func statefulSteps(ctx context.Context, w io.Writer, s *session, cs *client.Clientset) error {
	fmt.Fprintln(w, "# a StatefulSet of 2 replicas, its headless Service, and a volume claim per pod bound by the local volume provisioner")
	file := filepath.Join(s.dir, "db.yaml")
	if err := os.WriteFile(file, []byte(statefulYAML), 0o600); err != nil {
		return err
	}
	if err := s.runAll(ctx, []string{"apply", "-f", file}, []string{"rollout", "status", "statefulset/db", "--timeout=90s"},
		[]string{"get", "statefulset,pvc,pv", "-o", "wide"}, []string{"get", "pods", "-l", "app=db", "-o", "wide"}); err != nil {
		return err
	}
	for i := range 2 {
		name := fmt.Sprintf("db-%d", i)
		p, err := cs.Pods().Get(ctx, "default", name)
		if err != nil {
			return fmt.Errorf("statefulset pod %s: %w", name, err)
		}
		if p.Status.Phase != api.PodRunning {
			return fmt.Errorf("statefulset pod %s is %s, want Running", name, p.Status.Phase)
		}
		claim := "data-" + name
		pvc, err := cs.PersistentVolumeClaims().Get(ctx, "default", claim)
		if err != nil {
			return fmt.Errorf("claim %s: %w", claim, err)
		}
		if pvc.Status.Phase != api.ClaimBound || pvc.Spec.VolumeName == "" {
			return fmt.Errorf("claim %s is %q (volume %q), want Bound", claim, pvc.Status.Phase, pvc.Spec.VolumeName)
		}
	}
	return nil
}

// inspectSteps shows kubectl exec and top: each goes through the
// apiserver to the kubelet API of the pod's node (top through the
// metrics API the apiserver scrapes from the kubelets).
func inspectSteps(ctx context.Context, w io.Writer, s *session) error {
	fmt.Fprintln(w, "# kubectl exec and top: the apiserver proxies to each node's kubelet API")
	for i := range 2 {
		out, code, err := s.capture(ctx, "exec", fmt.Sprintf("db-%d", i), "--", "/web", "cat", "/data/owner")
		if err != nil {
			return err
		}
		if want := fmt.Sprintf("db-%d\n", i); code != 0 || out != want {
			return fmt.Errorf("kubectl exec db-%d cat /data/owner: exit %d, %q; want exit 0 and %q (its own volume)", i, code, out, want)
		}
	}
	out, code, err := s.capture(ctx, "exec", "db-0", "--", "/web", "cat", "/data/missing")
	if err != nil {
		return err
	}
	if code != 1 || !strings.Contains(out, "no such file") {
		return fmt.Errorf("kubectl exec of a failing command: exit %d, %q; want exit 1 and its error", code, out)
	}
	fmt.Fprintf(w, "# kubectl exited %d, the command's exit code\n\n", code)
	// The metrics API rates CPU between two scrapes of each kubelet.
	var top string
	if err := poll(ctx, 60*time.Second, "kubectl top pods to list db-0 and db-1", func() (bool, error) {
		out, err := s.cmd(ctx, "top", "pods", "-l", "app=db", "--no-headers").CombinedOutput()
		top = string(out)
		return err == nil && strings.Contains(top, "db-0 ") && strings.Contains(top, "db-1 "), nil
	}); err != nil {
		return fmt.Errorf("%w: last output %q", err, top)
	}
	for _, args := range [][]string{{"top", "pods", "-l", "app=db"}, {"top", "nodes"}} {
		out, code, err := s.capture(ctx, args...)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("kubectl %s exited %d: %s", strings.Join(args, " "), code, out)
		}
		re := `(?m)^db-0\s+\d+m\s+\d+Mi`
		if args[1] == "nodes" {
			re = `(?m)^node-1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%`
		}
		if !regexp.MustCompile(re).MatchString(out) {
			return fmt.Errorf("kubectl %s printed %q, want usage figures (%s)", strings.Join(args, " "), out, re)
		}
	}
	return nil
}

// capture shows and runs kubectl like run, and returns its combined
// output and exit code instead of failing on a non-zero one.
func (s *session) capture(ctx context.Context, args ...string) (string, int, error) {
	s.show(args)
	out, err := s.cmd(ctx, args...).CombinedOutput()
	s.w.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Fprintln(s.w)
	}
	fmt.Fprintln(s.w)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode(), nil
	case err != nil:
		return "", 0, fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
	}
	return string(out), 0, nil
}
