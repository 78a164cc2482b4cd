package apiserver

import (
	"fmt"
	"sync"

	exapi "github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
)

// ExtraKind is a kind the server serves beyond its built-in registry
// (Config.ExtraKinds): a library user's own typed resource, in an API
// group of its own, made with Serve from a registry.NewKind. It flows
// through every path a built-in kind does: REST (JSON; protobuf only if
// the type carries generated protobuf methods, as Kubernetes serves
// custom resources in JSON only), the watch cache, legacy and aggregated
// discovery, OpenAPI v2 and v3 (kubectl explain, apply and field
// validation), server-side tables (kubectl get columns), server-side
// apply, admission, authorization (RBAC rules name its group and
// resource) and fenced writes. It is not counted by object-count quotas.
type ExtraKind struct {
	desc        registry.Descriptor
	newResource func(b store.Backend) (served, error)
}

// Serve returns the ExtraKind that serves kind. kind must come from
// registry.NewKind; Config.Validate reports one that does not.
func Serve[T store.Object](kind *registry.Kind[T]) ExtraKind {
	return ExtraKind{desc: kind, newResource: func(b store.Backend) (served, error) { return newResource(b, kind) }}
}

// Descriptor returns the kind's description.
func (k ExtraKind) Descriptor() registry.Descriptor { return k.desc }

// newRegistry returns the registry of the built-in kinds and extra.
func newRegistry(extra []ExtraKind) (*registry.Registry, error) {
	if len(extra) == 0 {
		return registry.Default(), nil
	}
	descs := make([]registry.Descriptor, len(extra))
	for i, k := range extra {
		if k.desc == nil || k.newResource == nil {
			return nil, fmt.Errorf("apiserver: ExtraKinds[%d] was not made with Serve", i)
		}
		descs[i] = k.desc
	}
	reg, err := registry.New(descs...)
	if err != nil {
		return nil, fmt.Errorf("apiserver: ExtraKinds: %w", err)
	}
	return reg, nil
}

// docsFor returns the discovery and OpenAPI documents of reg, built on
// first use: the built-in registry's are shared by every server.
func docsFor(reg *registry.Registry) *serverDocs {
	if reg == registry.Default() {
		return defaultDocs()
	}
	return newServerDocs(reg)
}

var defaultDocs = sync.OnceValue(func() *serverDocs { return newServerDocs(registry.Default()) })

// serverDocs are one registry's discovery and OpenAPI documents, each
// built once.
type serverDocs struct {
	reg        *registry.Registry
	openAPI    func() (map[string][]byte, error)
	aggregated func() (map[string]*aggregatedDoc, error)
	groups     func() groupDocs
}

// groupDocs are the legacy discovery documents.
type groupDocs struct {
	versions map[string]*exapi.APIResourceList
	groups   *exapi.APIGroupList
}

func newServerDocs(reg *registry.Registry) *serverDocs {
	d := &serverDocs{reg: reg}
	d.groups = sync.OnceValue(func() groupDocs {
		v := servedGroupVersions(reg)
		return groupDocs{versions: v, groups: servedGroups(reg, v)}
	})
	d.openAPI = sync.OnceValues(func() (map[string][]byte, error) { return buildOpenAPIDocs(reg) })
	d.aggregated = sync.OnceValues(func() (map[string]*aggregatedDoc, error) { return buildAggregatedDocs(d.groups()) })
	return d
}
