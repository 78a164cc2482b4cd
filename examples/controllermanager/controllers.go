package controllermanager

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/bootstrapsigner"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/cronjob"
	"github.com/setpoint-dev/setpoint/examples/controllers/csr"
	"github.com/setpoint-dev/setpoint/examples/controllers/daemonset"
	"github.com/setpoint-dev/setpoint/examples/controllers/deployment"
	"github.com/setpoint-dev/setpoint/examples/controllers/endpoint"
	"github.com/setpoint-dev/setpoint/examples/controllers/endpointslice"
	"github.com/setpoint-dev/setpoint/examples/controllers/garbagecollector"
	"github.com/setpoint-dev/setpoint/examples/controllers/job"
	"github.com/setpoint-dev/setpoint/examples/controllers/localvolume"
	"github.com/setpoint-dev/setpoint/examples/controllers/namespace"
	"github.com/setpoint-dev/setpoint/examples/controllers/nodeipam"
	"github.com/setpoint-dev/setpoint/examples/controllers/nodelifecycle"
	"github.com/setpoint-dev/setpoint/examples/controllers/podgc"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/examples/controllers/resourcequota"
	"github.com/setpoint-dev/setpoint/examples/controllers/serviceaccount"
	"github.com/setpoint-dev/setpoint/examples/controllers/statefulset"
	"github.com/setpoint-dev/setpoint/examples/controllers/tokencleaner"
)

// Runner is what the manager runs: a controller whose Run blocks until
// its context ends.
type Runner interface {
	Run(ctx context.Context) error
}

// deps are what a controller is built from.
type deps struct {
	cfg        *Config
	client     *client.Clientset
	recorder   *controllerutil.Recorder
	clock      clockwork.Clock
	logger     *slog.Logger
	registerer prometheus.Registerer
}

// known are the controllers the manager can run, by Kubernetes' controller
// name (kube-controller-manager --controllers), with the component name
// their events carry.
var known = map[string]struct {
	component string
	build     func(d deps) (Runner, error)
}{
	"replicaset": {"replicaset-controller", func(d deps) (Runner, error) {
		return replicaset.New(replicaset.Config{Client: d.client, Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"replicationcontroller": {"replication-controller", func(d deps) (Runner, error) {
		return replicaset.NewReplicationController(replicaset.Config{Client: d.client, Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"csrapproving": {"certificate-controller", func(d deps) (Runner, error) {
		return csr.NewApprover(csr.ApproverConfig{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"csrsigning": {"certificate-controller", func(d deps) (Runner, error) {
		if len(d.cfg.ClusterSigningCert) == 0 {
			return idle{}, nil // no CA given: nothing is signed
		}
		return csr.NewSigner(csr.SignerConfig{Client: d.client, CACert: d.cfg.ClusterSigningCert, CAKey: d.cfg.ClusterSigningKey,
			Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"bootstrapsigner": {"bootstrap-signer-controller", func(d deps) (Runner, error) {
		return bootstrapsigner.New(bootstrapsigner.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"tokencleaner": {"token-cleaner-controller", func(d deps) (Runner, error) {
		return tokencleaner.New(tokencleaner.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"deployment": {"deployment-controller", func(d deps) (Runner, error) {
		return deployment.New(deployment.Config{Client: d.client, Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"cronjob": {"cronjob-controller", func(d deps) (Runner, error) {
		return cronjob.New(cronjob.Config{Client: d.client, Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"statefulset": {"statefulset-controller", func(d deps) (Runner, error) {
		return statefulset.New(statefulset.Config{Client: d.client, Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"daemonset": {"daemonset-controller", func(d deps) (Runner, error) {
		return daemonset.New(daemonset.Config{Client: d.client, Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"job": {"job-controller", func(d deps) (Runner, error) {
		return job.New(job.Config{Client: d.client, Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"garbagecollector": {"garbage-collector-controller", func(d deps) (Runner, error) {
		return garbagecollector.New(garbagecollector.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"nodeipam": {"node-ipam-controller", func(d deps) (Runner, error) {
		if d.cfg.ClusterCIDR == "" {
			return idle{}, nil // --allocate-node-cidrs=false
		}
		return nodeipam.New(nodeipam.Config{Client: d.client, ClusterCIDR: d.cfg.ClusterCIDR, NodeMaskSize: d.cfg.NodeCIDRMaskSize,
			Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"nodelifecycle": {"node-controller", func(d deps) (Runner, error) {
		return nodelifecycle.New(nodelifecycle.Config{Client: d.client, Recorder: d.recorder, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"podgc": {"pod-garbage-collector", func(d deps) (Runner, error) {
		return podgc.New(podgc.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"resourcequota": {"resourcequota-controller", func(d deps) (Runner, error) {
		return resourcequota.New(resourcequota.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"endpoint": {"endpoint-controller", func(d deps) (Runner, error) {
		return endpoint.New(endpoint.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"endpointslice": {"endpoint-slice-controller", func(d deps) (Runner, error) {
		return endpointslice.New(endpointslice.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"localvolume": {"local-volume-provisioner", func(d deps) (Runner, error) {
		return localvolume.New(localvolume.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"serviceaccount": {"service-account-controller", func(d deps) (Runner, error) {
		return serviceaccount.New(serviceaccount.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"root-ca-cert-publisher": {"root-ca-cert-publisher", func(d deps) (Runner, error) {
		ca := d.cfg.RootCA
		if len(ca) == 0 {
			ca = d.cfg.ClusterSigningCert
		}
		if len(ca) == 0 {
			return idle{}, nil // no CA given: nothing to publish
		}
		return serviceaccount.NewRootCAPublisher(serviceaccount.RootCAConfig{Client: d.client, RootCA: ca, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
	"namespace": {"namespace-controller", func(d deps) (Runner, error) {
		return namespace.New(namespace.Config{Client: d.client, Clock: d.clock, Logger: d.logger, Registerer: d.registerer})
	}},
}

// idle is a controller that is on but has nothing to do.
type idle struct{}

func (idle) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// KnownControllers returns the names of the controllers the manager can
// run, sorted.
func KnownControllers() []string {
	var out []string
	for name := range known {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// selectControllers resolves a --controllers list as Kubernetes does:
// "*" turns on every controller, "foo" turns foo on, "-foo" turns foo off
// (which wins over "*" wherever it stands). An unknown name is an error.
func selectControllers(list []string) ([]string, error) {
	if len(list) == 0 {
		list = []string{"*"}
	}
	on, off, all := map[string]bool{}, map[string]bool{}, false
	for _, item := range list {
		item = strings.TrimSpace(item)
		name, neg := strings.CutPrefix(item, "-")
		switch {
		case item == "*":
			all = true
			continue
		case name == "" || name == "*":
			return nil, fmt.Errorf("controllermanager: Controllers: %q is not a controller name", item)
		}
		if _, ok := known[name]; !ok {
			return nil, fmt.Errorf("controllermanager: Controllers: unknown controller %q (known: %s)", name, strings.Join(KnownControllers(), ", "))
		}
		if neg {
			off[name] = true
		} else {
			on[name] = true
		}
	}
	var out []string
	for _, name := range KnownControllers() {
		if (all || on[name]) && !off[name] {
			out = append(out, name)
		}
	}
	return slices.Clip(out), nil
}
