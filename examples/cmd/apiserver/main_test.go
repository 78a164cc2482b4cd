package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startBinary runs the apiserver binary and waits until it serves.
func startBinary(t *testing.T, bin, dataDir, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "--data-dir", dataDir, "--listen", addr, "--kubeconfig-out", filepath.Join(dataDir, "kubeconfig"))
	logf, err := os.Create(filepath.Join(dataDir, fmt.Sprintf("log-%d", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := hc.Get("https://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("apiserver binary did not become ready on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDurabilityKill9: creates the server acknowledged survive kill -9 of
// the apiserver process and a restart on the same data directory.
func TestDurabilityKill9(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "apiserver")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the apiserver: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o700)
	addr := freePort(t)
	cmd := startBinary(t, bin, data, addr)
	pki, err := apiserver.LoadOrCreatePKI(filepath.Join(data, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := tls.X509KeyPair(pki.AdminCert, pki.AdminKey)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.CertPool(), Certificates: []tls.Certificate{pair}}}}
	pods, err := rest.NewClient[*api.Pod](hc, "https://"+addr, api.PodResource)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var acked []string
	for i := range 30 {
		p := &api.Pod{}
		p.Namespace, p.Name = "default", fmt.Sprintf("p%d", i)
		p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatalf("create %s: %v", p.Name, err)
		}
		acked = append(acked, p.Name)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	startBinary(t, bin, data, addr)
	l, err := pods.List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, p := range l.Items {
		have[p.Name] = true
	}
	var lost []string
	for _, n := range acked {
		if !have[n] {
			lost = append(lost, n)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("acknowledged creates lost after kill -9: %s", strings.Join(lost, ","))
	}
}
