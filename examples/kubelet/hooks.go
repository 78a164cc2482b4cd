package kubelet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// reasonPostStartHookError is the waiting reason of a container whose
// postStart hook failed (it is killed, then restarted as the restart
// policy says).
const reasonPostStartHookError = "PostStartHookError"

// runHook runs a lifecycle handler against the container c (runtime ID
// id): exec (exit
// code 0), httpGet (status 200-399, through the sandbox's network) or
// sleep (on the kubelet's clock). tcpSocket is accepted and does nothing,
// as in Kubernetes.
func (k *Kubelet) runHook(ctx context.Context, h *api.LifecycleHandler, c *api.Container, id, sandboxID string) error {
	switch {
	case h.Exec != nil:
		var out strings.Builder
		code, err := k.rt.Exec(ctx, id, runtime.ExecOptions{Cmd: h.Exec.Command, Stdout: &out, Stderr: &out})
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("command %q exited with %d: %s", h.Exec.Command, code, strings.TrimSpace(out.String()))
		}
		return nil
	case h.HTTPGet != nil:
		return k.httpProbe(ctx, h.HTTPGet, c, sandboxID)
	case h.Sleep != nil:
		select {
		case <-k.cfg.Clock.After(time.Duration(h.Sleep.Seconds) * time.Second):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case h.TCPSocket != nil:
		return nil
	}
	return errors.New("lifecycle handler names no action")
}

// postStart runs c's postStart hook, if any, right after the container
// started; when it fails the container is killed (FailedPostStartHook)
// and false is returned.
func (k *Kubelet) postStart(ctx context.Context, pod *api.Pod, c *api.Container, id string) bool {
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return true
	}
	st, err := k.rt.ContainerStatus(ctx, id)
	if err == nil {
		err = k.runHook(ctx, c.Lifecycle.PostStart, c, id, st.SandboxID)
	}
	if err == nil {
		return true
	}
	msg := fmt.Sprintf("PostStartHook failed: %v", err)
	k.ev.pod(ctx, pod, eventWarning, "FailedPostStartHook", msg)
	k.setWaiting(pod, c.Name, &api.ContainerStateWaiting{Reason: reasonPostStartHookError, Message: msg})
	if err := k.rt.StopContainer(ctx, id, k.gracePeriod(pod)); err != nil && !isNotFound(err) {
		k.log.Warn("killing a container whose postStart hook failed", "pod", podKey(pod), "container", c.Name, "err", err)
	}
	return false
}

// preStop runs the preStop hooks of the pod's running containers at once,
// within grace, and returns the grace left for SIGTERM (at least 2 s
// after a hook used it all, as Kubernetes gives).
func (k *Kubelet) preStop(ctx context.Context, pod *api.Pod, rs runtimeState, grace time.Duration) time.Duration {
	start := k.cfg.Clock.Now()
	hctx, cancel := clockwork.WithTimeout(ctx, k.cfg.Clock, grace)
	defer cancel()
	var wg sync.WaitGroup
	ran := false
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		rec := rs.containers[c.Name]
		if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || rec == nil || rec.latest.State != runtime.ContainerRunning {
			continue
		}
		ran = true
		wg.Go(func() {
			if err := k.runHook(hctx, c.Lifecycle.PreStop, c, rec.latest.ID, rec.latest.SandboxID); err != nil {
				k.ev.pod(ctx, pod, eventWarning, "FailedPreStopHook", fmt.Sprintf("PreStopHook failed: %v", err))
			}
		})
	}
	wg.Wait()
	if !ran {
		return grace
	}
	return max(grace-k.cfg.Clock.Since(start), 2*time.Second)
}

// grpcProbe asks the gRPC health service (grpc.health.v1.Health/Check) in
// the sandbox for the probe's service; only SERVING passes.
func (k *Kubelet) grpcProbe(ctx context.Context, g *api.GRPCAction, sandboxID string) error {
	if g.Port <= 0 || g.Port > 65535 {
		return fmt.Errorf("grpc probe port %d out of range", g.Port)
	}
	port := uint16(g.Port)
	conn, err := grpc.NewClient("passthrough:///localhost",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return k.rt.PortForward(ctx, sandboxID, port)
		}),
		grpc.WithUserAgent("kube-probe/1.32"))
	if err != nil {
		return err
	}
	defer conn.Close()
	req := &healthpb.HealthCheckRequest{}
	if g.Service != nil {
		req.Service = *g.Service
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, req)
	if err != nil {
		return fmt.Errorf("grpc probe on port %d: %w", port, err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("service unhealthy (responded with %q)", resp.GetStatus())
	}
	return nil
}
