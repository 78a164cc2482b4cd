package server

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
)

// discovery serves /api, /apis, /apis/<g>, /api/v1, /apis/<g>/<v> and
// /version as legacy (non-aggregated) discovery documents, built by the
// api registry; kubectl falls back to them when the aggregated form it asks
// for first is not offered.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) bool {
	p := strings.TrimRight(r.URL.Path, "/")
	switch p {
	case "/version":
		writeJSON(w, map[string]string{"major": "1", "minor": "32", "gitVersion": "v1.32.0-setpoint", "gitCommit": "",
			"gitTreeState": "clean", "buildDate": "", "goVersion": runtime.Version(), "compiler": runtime.Compiler,
			"platform": runtime.GOOS + "/" + runtime.GOARCH})
	case "/api":
		v := registry.CoreAPIVersions()
		v.ServerAddressByClientCIDRs = []api.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: s.Addr()}}
		writeJSON(w, v)
	case "/apis":
		writeJSON(w, registry.Groups())
	default:
		gv, ok := strings.CutPrefix(p, "/api/")
		if !ok {
			if gv, ok = strings.CutPrefix(p, "/apis/"); !ok {
				return false
			}
			if !strings.Contains(gv, "/") {
				for _, g := range registry.Groups().Groups {
					if g.Name == gv {
						writeJSON(w, map[string]any{"kind": "APIGroup", "apiVersion": "v1", "name": g.Name,
							"versions": g.Versions, "preferredVersion": g.PreferredVersion})
						return true
					}
				}
				return false
			}
		}
		res, ok := registry.Resources(gv)
		if !ok {
			return false
		}
		writeJSON(w, res)
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, b)
}

func writeRaw(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// openAPIDocs are built once.
var openAPIDocs = sync.OnceValues(func() (map[string][]byte, error) {
	docs := map[string][]byte{}
	v2, err := registry.OpenAPIV2()
	if err != nil {
		return nil, err
	}
	docs["/openapi/v2"] = v2
	idx, err := registry.OpenAPIV3Discovery()
	if err != nil {
		return nil, err
	}
	docs["/openapi/v3"] = idx
	for _, p := range registry.OpenAPIV3Paths() {
		d, _, err := registry.OpenAPIV3(p)
		if err != nil {
			return nil, err
		}
		docs["/openapi/v3/"+p] = d
	}
	return docs, nil
})

// openAPI serves /openapi/v2 (Swagger 2.0 definitions: kubectl's
// client-side validation and apply schemas) and /openapi/v3 with one
// document per group version (whose PATCH operations carry the
// fieldValidation parameter, so kubectl lets the server validate).
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) bool {
	docs, err := openAPIDocs()
	if err != nil {
		s.log.Error("building OpenAPI documents", "err", err)
		return false
	}
	d, ok := docs[strings.TrimRight(r.URL.Path, "/")]
	if ok {
		writeRaw(w, d)
	}
	return ok
}
