package apiserver

import (
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	exapi "github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apidiscovery"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// Aggregated discovery (apidiscovery.k8s.io, KEP 3352): GET /api and
// /apis with an Accept clause such as
//
//	application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList
//
// answer every group, version and resource in one document, in JSON or
// protobuf, so that kubectl and client-go discover in two requests.
const (
	discoveryGroup = "apidiscovery.k8s.io"
	discoveryKind  = "APIGroupDiscoveryList"
)

// aggregatedConversion allows the aggregated discovery list, v2 and the
// older v2beta1 spelling (same shape), in JSON and protobuf, as
// Kubernetes' discovery endpoints do.
func aggregatedConversion(_ string, c rest.Conversion) bool {
	return c.Group == discoveryGroup && c.Kind == discoveryKind && (c.Version == "v2" || c.Version == "v2beta1")
}

// servedGroupVersions returns the registry's group versions that serve at
// least one resource, with their discovery documents: a group version with
// nothing in it is never listed (kubectl api-resources fails on one).
func servedGroupVersions(reg *registry.Registry) map[string]*exapi.APIResourceList {
	out := map[string]*exapi.APIResourceList{}
	gvs := []string{"v1"}
	for _, g := range reg.Groups().Groups {
		for _, v := range g.Versions {
			gvs = append(gvs, v.GroupVersion)
		}
	}
	for _, gv := range gvs {
		if l, ok := reg.Resources(gv); ok && len(l.Resources) > 0 {
			out[gv] = l
		}
	}
	out[metricsGroupVersion] = metricsResources()
	return out
}

// servedGroups is reg.Groups without the versions (and groups) that serve
// nothing (served is servedGroupVersions(reg)).
func servedGroups(reg *registry.Registry, served map[string]*exapi.APIResourceList) *exapi.APIGroupList {
	all := reg.Groups()
	out := &exapi.APIGroupList{TypeMeta: all.TypeMeta, Groups: []exapi.APIGroup{}}
	for _, g := range all.Groups {
		var versions []exapi.GroupVersionForDiscovery
		for _, v := range g.Versions {
			if served[v.GroupVersion] != nil {
				versions = append(versions, v)
			}
		}
		if len(versions) == 0 {
			continue
		}
		g.Versions = versions
		if served[g.PreferredVersion.GroupVersion] == nil {
			g.PreferredVersion = versions[0]
		}
		out.Groups = append(out.Groups, g)
	}
	mv := exapi.GroupVersionForDiscovery{GroupVersion: metricsGroupVersion, Version: "v1beta1"}
	out.Groups = append(out.Groups, exapi.APIGroup{Name: "metrics.k8s.io", Versions: []exapi.GroupVersionForDiscovery{mv}, PreferredVersion: mv})
	return out
}

// aggregatedGroup converts the legacy documents of one group's versions
// (most preferred first) into an APIGroupDiscovery, as Kubernetes does:
// subresources ("pods/status") move under their resource, every kind
// carries its group and version.
func aggregatedGroup(name string, versions []*exapi.APIResourceList) apidiscovery.APIGroupDiscovery {
	g := apidiscovery.APIGroupDiscovery{ObjectMeta: store.ObjectMeta{Name: name}}
	for _, l := range versions {
		group, version := "", l.GroupVersion
		if i := strings.IndexByte(l.GroupVersion, '/'); i >= 0 {
			group, version = l.GroupVersion[:i], l.GroupVersion[i+1:]
		}
		gvk := func(r exapi.APIResource) *exapi.GroupVersionKind {
			k := &exapi.GroupVersionKind{Group: group, Version: version, Kind: r.Kind}
			if r.Group != "" || r.Version != "" {
				k.Group, k.Version = r.Group, r.Version
			}
			return k
		}
		v := apidiscovery.APIVersionDiscovery{Version: version, Freshness: apidiscovery.DiscoveryFreshnessCurrent}
		index := map[string]int{}
		for _, r := range l.Resources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			scope := apidiscovery.ScopeCluster
			if r.Namespaced {
				scope = apidiscovery.ScopeNamespace
			}
			index[r.Name] = len(v.Resources)
			v.Resources = append(v.Resources, apidiscovery.APIResourceDiscovery{
				Resource: r.Name, ResponseKind: gvk(r), Scope: scope, SingularResource: r.SingularName,
				Verbs: r.Verbs, ShortNames: r.ShortNames, Categories: r.Categories,
			})
		}
		for _, r := range l.Resources {
			parent, sub, ok := strings.Cut(r.Name, "/")
			if !ok {
				continue
			}
			i, ok := index[parent]
			if !ok {
				continue // a subresource of nothing served: not listed
			}
			v.Resources[i].Subresources = append(v.Resources[i].Subresources, apidiscovery.APISubresourceDiscovery{
				Subresource: sub, ResponseKind: gvk(r), Verbs: r.Verbs,
			})
		}
		if len(v.Resources) > 0 {
			g.Versions = append(g.Versions, v)
		}
	}
	return g
}

// aggregatedDoc is one aggregated discovery document, encoded once.
type aggregatedDoc struct {
	etag string // quoted
	// by version ("v2", "v2beta1") then media type
	bodies map[string]map[string][]byte
}

// buildAggregatedDocs builds /api's and /apis's aggregated documents.
func buildAggregatedDocs(gd groupDocs) (map[string]*aggregatedDoc, error) {
	served := gd.versions
	core := &apidiscovery.APIGroupDiscoveryList{Items: []apidiscovery.APIGroupDiscovery{aggregatedGroup("", []*exapi.APIResourceList{served["v1"]})}}
	apis := &apidiscovery.APIGroupDiscoveryList{Items: []apidiscovery.APIGroupDiscovery{}}
	for _, g := range gd.groups.Groups {
		var versions []*exapi.APIResourceList
		for _, v := range g.Versions {
			versions = append(versions, served[v.GroupVersion])
		}
		if ag := aggregatedGroup(g.Name, versions); len(ag.Versions) > 0 {
			apis.Items = append(apis.Items, ag)
		}
	}
	docs := map[string]*aggregatedDoc{}
	for path, list := range map[string]*apidiscovery.APIGroupDiscoveryList{"/api": core, "/apis": apis} {
		d := &aggregatedDoc{bodies: map[string]map[string][]byte{}}
		for _, v := range []string{"v2", "v2beta1"} {
			list.TypeMeta = store.TypeMeta{APIVersion: discoveryGroup + "/" + v, Kind: discoveryKind}
			j, err := json.Marshal(list)
			if err != nil {
				return nil, err
			}
			p, err := watch.MarshalEnvelope(list.APIVersion, discoveryKind, list)
			if err != nil {
				return nil, err
			}
			d.bodies[v] = map[string][]byte{watch.MediaTypeJSON: j, watch.MediaTypeProtobuf: p}
			if v == "v2" {
				d.etag = strconv.Quote(fmt.Sprintf("%X", sha512.Sum512(j)))
			}
		}
		docs[path] = d
	}
	return docs, nil
}

// serveAggregated answers GET /api or /apis with the aggregated document
// n asked for, with an ETag: a request whose If-None-Match names it gets
// 304 Not Modified.
func (d discoveryHandler) serveAggregated(w http.ResponseWriter, r *http.Request, path string, n rest.Negotiated) {
	docs, err := d.docs.aggregated()
	if err != nil {
		d.log.Error("building aggregated discovery", "err", err)
		rest.WriteError(w, err)
		return
	}
	doc := docs[path]
	h := w.Header()
	h.Set("ETag", doc.etag)
	h.Set("Vary", "Accept")
	h.Set("Cache-Control", "public")
	if r.Header.Get("If-None-Match") == doc.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	c := n.Convert
	h.Set("Content-Type", n.MediaType+";g="+c.Group+";v="+c.Version+";as="+c.Kind)
	w.Write(doc.bodies[c.Version][n.MediaType])
}
