package dns_test

import (
	"context"
	"fmt"

	mdns "github.com/miekg/dns"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/dns"
	"github.com/setpoint-dev/setpoint/store"
)

// The apiserver accepts the objects that run the DNS in the cluster, and
// a DNS server on loopback answers the kube-dns Service's name and SRV.
func Example() {
	cluster, err := controllertest.StartCluster()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop()
	cs := cluster.Client
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	objs, err := dns.ClusterObjects(dns.ClusterConfig{Image: "setpoint/dns:dev", ClusterIP: "10.96.0.10", KubeconfigSecret: "kube-dns-kubeconfig"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range objs {
		if err := create(ctx, cs, o); err != nil {
			fmt.Println(err)
			return
		}
	}

	srv, err := dns.New(dns.Config{Client: cs, Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go srv.Run(ctx)
	<-srv.Ready()

	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"kube-dns.kube-system.svc.cluster.local.", mdns.TypeA},
		{"_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local.", mdns.TypeSRV},
		{"nothing.kube-system.svc.cluster.local.", mdns.TypeA},
	} {
		m := new(mdns.Msg)
		m.SetQuestion(q.name, q.qtype)
		resp, err := mdns.Exchange(m, srv.Addr()) // UDP
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(mdns.RcodeToString[resp.Rcode])
		for _, rr := range resp.Answer {
			fmt.Println(rr)
		}
	}
	// Output:
	// NOERROR
	// kube-dns.kube-system.svc.cluster.local.	30	IN	A	10.96.0.10
	// NOERROR
	// _dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local.	30	IN	SRV	0 100 53 kube-dns.kube-system.svc.cluster.local.
	// NXDOMAIN
}

func create(ctx context.Context, cs *client.Clientset, o store.Object) error {
	var err error
	switch o := o.(type) {
	case *api.ServiceAccount:
		_, err = cs.ServiceAccounts().Create(ctx, o)
	case *rbac.ClusterRole:
		_, err = cs.ClusterRoles().Create(ctx, o)
	case *rbac.ClusterRoleBinding:
		_, err = cs.ClusterRoleBindings().Create(ctx, o)
	case *apps.Deployment:
		_, err = cs.Deployments().Create(ctx, o)
	case *api.Service:
		_, err = cs.Services().Create(ctx, o)
	default:
		err = fmt.Errorf("unexpected %T", o)
	}
	return err
}
