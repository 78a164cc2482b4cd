package apiserver

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"strings"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// discoveryHandler serves what is not a resource: discovery, OpenAPI and
// /version, to GET and HEAD only; anything else is 404.
type discoveryHandler struct {
	addr string // the server's address, for /api
	log  *slog.Logger
	docs *serverDocs
}

func (d discoveryHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rest.WriteError(w, watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, "method not allowed"))
		return
	}
	if !d.discovery(w, r) && !d.openAPI(w, r) {
		rest.WriteError(w, watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound, "the server could not find the requested resource"))
	}
}

// discovery serves /api, /apis, /apis/<g>, /api/v1, /apis/<g>/<v> and
// /version. /api and /apis answer the aggregated document (one request
// for everything) when the Accept header asks for it, as kubectl and
// client-go do first, and otherwise the legacy documents, which, like the
// per-group-version ones, are offered in JSON and protobuf. A group
// version that serves nothing is never listed.
func (d discoveryHandler) discovery(w http.ResponseWriter, r *http.Request) bool {
	p := strings.TrimRight(r.URL.Path, "/")
	if p == "/version" {
		writeJSON(w, map[string]string{"major": "1", "minor": "32", "gitVersion": "v1.32.0-setpoint", "gitCommit": "",
			"gitTreeState": "clean", "buildDate": "", "goVersion": runtime.Version(), "compiler": runtime.Compiler,
			"platform": runtime.GOOS + "/" + runtime.GOARCH})
		return true
	}
	var jsonDoc any
	var protoDoc func() []byte
	switch p {
	case "/api", "/apis":
		n, err := rest.Negotiate(r.Header.Get("Accept"), rest.Offer{Protobuf: true, Convert: aggregatedConversion})
		if err != nil {
			rest.WriteError(w, err)
			return true
		}
		if n.Convert != nil {
			d.serveAggregated(w, r, p, n)
			return true
		}
		if p == "/api" {
			v := registry.CoreAPIVersions()
			v.ServerAddressByClientCIDRs = []api.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: d.addr}}
			jsonDoc, protoDoc = v, func() []byte { return apiVersionsProtobuf(v) }
		} else {
			l := d.docs.groups().groups
			jsonDoc, protoDoc = l, func() []byte { return apiGroupListProtobuf(l) }
		}
		writeDiscovery(w, n.MediaType, jsonDoc, protoDoc)
		return true
	}
	gv, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		if gv, ok = strings.CutPrefix(p, "/apis/"); !ok {
			return false
		}
		if !strings.Contains(gv, "/") {
			for _, g := range d.docs.groups().groups.Groups {
				if g.Name == gv {
					jsonDoc = map[string]any{"kind": "APIGroup", "apiVersion": "v1", "name": g.Name,
						"versions": g.Versions, "preferredVersion": g.PreferredVersion}
					protoDoc = func() []byte { return apiGroupProtobuf(g) }
				}
			}
			if jsonDoc == nil {
				return false
			}
		}
	}
	if jsonDoc == nil {
		res, ok := d.docs.groups().versions[gv]
		if !ok {
			return false
		}
		jsonDoc, protoDoc = res, func() []byte { return apiResourceListProtobuf(res) }
	}
	n, err := rest.Negotiate(r.Header.Get("Accept"), rest.Offer{Protobuf: true})
	if err != nil {
		rest.WriteError(w, err)
		return true
	}
	writeDiscovery(w, n.MediaType, jsonDoc, protoDoc)
	return true
}

// writeDiscovery writes a legacy discovery document in mediaType.
func writeDiscovery(w http.ResponseWriter, mediaType string, jsonDoc any, protoDoc func() []byte) {
	if mediaType == watch.MediaTypeProtobuf {
		w.Header().Set("Content-Type", watch.MediaTypeProtobuf)
		w.Write(protoDoc())
		return
	}
	writeJSON(w, jsonDoc)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, b)
}

func writeRaw(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// buildOpenAPIDocs builds reg's OpenAPI documents, each in JSON and
// protobuf, by path.
func buildOpenAPIDocs(reg *registry.Registry) (map[string][]byte, error) {
	docs := map[string][]byte{}
	v2, err := reg.OpenAPIV2()
	if err != nil {
		return nil, err
	}
	docs["/openapi/v2"] = v2
	if docs["/openapi/v2"+protobufKey], err = openAPIToProtobuf(v2, openapiv2.ParseDocument); err != nil {
		return nil, err
	}
	idx, err := reg.OpenAPIV3Discovery()
	if err != nil {
		return nil, err
	}
	docs["/openapi/v3"] = idx
	for _, p := range reg.OpenAPIV3Paths() {
		d, _, err := reg.OpenAPIV3(p)
		if err != nil {
			return nil, err
		}
		docs["/openapi/v3/"+p] = d
		if docs["/openapi/v3/"+p+protobufKey], err = openAPIToProtobuf(d, openapiv3.ParseDocument); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// protobufKey ends the key of a document's protobuf form in openAPIDocs.
const protobufKey = " protobuf"

// openAPI serves /openapi/v2 (Swagger 2.0 definitions: kubectl's
// client-side validation and apply schemas), in JSON or, as kubectl asks
// for it, protobuf, and /openapi/v3 with one document per group version
// (whose PATCH operations carry the fieldValidation parameter, so kubectl
// lets the server validate), also in JSON or protobuf; the /openapi/v3
// index is JSON only, as in Kubernetes.
func (d discoveryHandler) openAPI(w http.ResponseWriter, r *http.Request) bool {
	docs, err := d.docs.openAPI()
	if err != nil {
		d.log.Error("building OpenAPI documents", "err", err)
		return false
	}
	p := strings.TrimRight(r.URL.Path, "/")
	doc, ok := docs[p]
	if !ok {
		return false
	}
	var pb []string
	switch {
	case p == "/openapi/v2":
		pb = []string{openAPIV2Protobuf, openAPIV2ProtobufAlt}
	case strings.HasPrefix(p, "/openapi/v3/"):
		pb = []string{openAPIV3Protobuf, openAPIV3ProtobufAlt}
	}
	if pb == nil {
		writeRaw(w, doc)
		return true
	}
	w.Header().Set("Vary", "Accept")
	mt, ok := openAPIMediaType(r.Header.Get("Accept"), pb...)
	switch {
	case !ok:
		rest.WriteError(w, watch.NewStatusError(http.StatusNotAcceptable, watch.StatusReasonNotAcceptable,
			"only the following media types are accepted: application/json, "+pb[0]))
	case mt != "application/json":
		w.Header().Set("Content-Type", mt)
		w.Write(docs[p+protobufKey])
	default:
		writeRaw(w, doc)
	}
	return true
}
