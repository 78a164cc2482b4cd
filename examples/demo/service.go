package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
)

const serviceYAML = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
`

// fetches is how many requests each client makes of the Service.
const fetches = 12

// serviceSteps exposes the web Deployment as a Service of type NodePort
// (so it also has a ClusterIP), curls it from the host by NodePort, and
// from a client pod by its DNS name; each must show at least two
// different backends answering, every answer from a v2 web pod.
func serviceSteps(ctx context.Context, w io.Writer, s *session, cs *client.Clientset, srv *cluster.Server) error {
	say := func(format string, args ...any) { fmt.Fprintf(w, "# "+format+"\n", args...) }
	say("exposing the Deployment as a Service: a ClusterIP, a NodePort on every node, and a DNS name")
	svcFile := filepath.Join(s.dir, "web-service.yaml")
	if err := os.WriteFile(svcFile, []byte(serviceYAML), 0o600); err != nil {
		return err
	}
	if err := s.runAll(ctx, []string{"apply", "-f", svcFile}, []string{"get", "service", "web", "-o", "wide"},
		[]string{"get", "endpointslices", "-l", "kubernetes.io/service-name=web"}); err != nil {
		return err
	}
	svc, err := cs.Services().Get(ctx, "default", "web")
	if err != nil {
		return err
	}
	if svc.Spec.ClusterIP == "" || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].NodePort == 0 {
		return fmt.Errorf("service web has ClusterIP %q and ports %+v, want a ClusterIP and a NodePort", svc.Spec.ClusterIP, svc.Spec.Ports)
	}
	node, err := cs.Nodes().Get(ctx, "", srv.Nodes()[0].Name())
	if err != nil {
		return err
	}
	var nodeIP string
	for _, a := range node.Status.Addresses {
		if a.Type == api.NodeInternalIP {
			nodeIP = a.Address
		}
	}
	url := "http://" + net.JoinHostPort(nodeIP, fmt.Sprint(svc.Spec.Ports[0].NodePort)) + "/"
	say("from the host, by NodePort on %s (each request on a new connection)", node.Name)
	var answers []string
	if err := poll(ctx, 30*time.Second, "the NodePort to answer", func() (bool, error) {
		answers = answers[:0]
		hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for range fetches {
			resp, err := hc.Get(url)
			if err != nil {
				return false, nil
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers = append(answers, string(body))
		}
		return true, nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "$ for i in $(seq %d); do curl -s %s; done\n%s\n", fetches, url, strings.Join(answers, ""))
	if err := backends(answers, "v2"); err != nil {
		return fmt.Errorf("NodePort %s: %w", url, err)
	}
	say("from inside a pod, by the Service's DNS name (the cluster DNS answers; the proxy balances)")
	if err := s.runAll(ctx, []string{"run", "client", "--image=setpoint.demo/web:v2", "--image-pull-policy=Never",
		"--restart=Never", "--", "fetch", "http://web.default.svc.cluster.local/", fmt.Sprint(fetches)}); err != nil {
		return err
	}
	var logs string
	if err := poll(ctx, 60*time.Second, "the client pod to fetch "+fmt.Sprint(fetches)+" times", func() (bool, error) {
		out, err := s.cmd(ctx, "logs", "client").Output()
		logs = string(out)
		return err == nil && strings.Contains(logs, "fetch done"), nil
	}); err != nil {
		return fmt.Errorf("%w; the client printed:\n%s", err, logs)
	}
	say("its log, through the apiserver from its node's kubelet API")
	logs, code, err := s.capture(ctx, "logs", "client")
	if err != nil {
		return err
	}
	if code != 0 || !strings.Contains(logs, "fetch done") {
		return fmt.Errorf("kubectl logs client exited %d with %q, want the client's log ending in \"fetch done\"", code, logs)
	}
	var got []string
	for _, l := range strings.SplitAfter(logs, "\n") {
		if strings.HasPrefix(l, "hello from ") {
			got = append(got, l)
		}
	}
	if len(got) < fetches/2 {
		return fmt.Errorf("the client got %d answers of %d by DNS name:\n%s", len(got), fetches, logs)
	}
	if err := backends(got, "v2"); err != nil {
		return fmt.Errorf("by DNS name: %w", err)
	}
	return s.run(ctx, "delete", "pod", "client", "--wait=false")
}

// backends checks that every answer is a web pod's of version and that at
// least two different pods answered.
func backends(answers []string, version string) error {
	seen := map[string]bool{}
	for _, a := range answers {
		name, ok := strings.CutPrefix(a, "hello from ")
		if !ok || !strings.HasSuffix(a, "("+version+")\n") {
			return fmt.Errorf("answer %q is not a %s web pod's", a, version)
		}
		seen[strings.Fields(name)[0]] = true
	}
	if len(seen) < 2 {
		return fmt.Errorf("only %d backend(s) answered %d requests, want at least 2", len(seen), len(answers))
	}
	return nil
}
