package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/kubelet/server"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
)

// emptyNode is a node that runs no pods.
type emptyNode struct{ rt runtime.Runtime }

func (n emptyNode) NodeName() string         { return "node-1" }
func (n emptyNode) Runtime() runtime.Runtime { return n.rt }
func (n emptyNode) Healthy() error           { return nil }
func (n emptyNode) Pods() []*api.Pod         { return nil }
func (n emptyNode) Pod(context.Context, string, string) (*api.Pod, server.PodHandles, error) {
	return nil, server.PodHandles{}, server.ErrPodNotFound
}

// Example serves a node's API and calls it with the apiserver's client
// certificate, then without one.
func Example() {
	pki, err := apiserver.NewPKI()
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := server.New(server.Config{Host: emptyNode{fake.New()}, Listen: "127.0.0.1:0", ClientCAPEM: pki.CACert})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	certPEM, keyPEM, _ := pki.IssueClientCert(server.DefaultClientName)
	cert, _ := tls.X509KeyPair(certPEM, keyPEM)
	for _, certs := range [][]tls.Certificate{{cert}, nil} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: certs}}
		resp, err := (&http.Client{Transport: tr}).Get("https://" + s.Addr() + "/healthz")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.StatusCode == http.StatusOK {
			fmt.Println(resp.StatusCode, string(body))
		} else {
			fmt.Println(resp.StatusCode)
		}
	}
	// Output:
	// 200 ok
	// 401
}
