package server

import (
	"encoding/json"
	"net/http"
	"runtime"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
)

type groupVersion struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

type apiGroup struct {
	Name             string         `json:"name"`
	Versions         []groupVersion `json:"versions"`
	PreferredVersion groupVersion   `json:"preferredVersion"`
}

type apiResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group,omitempty"`
	Version      string   `json:"version,omitempty"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Categories   []string `json:"categories,omitempty"`
}

var resourceVerbs = []string{"create", "delete", "get", "list", "patch", "update", "watch"}

// discovery serves /api, /apis, /api/v1, /apis/<g>/<v> and /version as
// legacy (non-aggregated) discovery documents; kubectl falls back to them
// when the aggregated form it asks for first is not offered.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) bool {
	p := strings.TrimRight(r.URL.Path, "/")
	switch p {
	case "/version":
		writeJSON(w, map[string]string{"major": "1", "minor": "32", "gitVersion": "v1.32.0-setpoint", "gitCommit": "",
			"gitTreeState": "clean", "buildDate": "", "goVersion": runtime.Version(), "compiler": runtime.Compiler,
			"platform": runtime.GOOS + "/" + runtime.GOARCH})
	case "/api":
		writeJSON(w, map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []any{map[string]string{"clientCIDR": "0.0.0.0/0", "serverAddress": s.Addr()}}})
	case "/apis":
		writeJSON(w, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups()})
	default:
		gv, ok := strings.CutPrefix(p, "/api/")
		if !ok {
			gv, ok = strings.CutPrefix(p, "/apis/")
			if !ok || !strings.Contains(gv, "/") {
				if ok {
					for _, g := range groups() {
						if g.Name == gv {
							writeJSON(w, map[string]any{"kind": "APIGroup", "apiVersion": "v1", "name": g.Name,
								"versions": g.Versions, "preferredVersion": g.PreferredVersion})
							return true
						}
					}
				}
				return false
			}
		}
		res := resourcesOf(gv)
		if res == nil {
			return false
		}
		writeJSON(w, map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res})
	}
	return true
}

func groups() []apiGroup {
	seen := map[string]bool{}
	var out []apiGroup
	for _, d := range api.Kinds() {
		g, v := api.GroupVersion(d.Resource())
		if g == "" || seen[g] {
			continue
		}
		seen[g] = true
		gv := groupVersion{GroupVersion: g + "/" + v, Version: v}
		out = append(out, apiGroup{Name: g, Versions: []groupVersion{gv}, PreferredVersion: gv})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func resourcesOf(gv string) []apiResource {
	var out []apiResource
	for _, d := range api.Kinds() {
		r := d.Resource()
		if r.APIVersion != gv {
			continue
		}
		out = append(out, apiResource{Name: r.Name, SingularName: d.Singular(), Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: resourceVerbs, ShortNames: d.ShortNames(), Categories: d.Categories()})
		for _, sub := range d.Subresources() {
			ar := apiResource{Name: r.Name + "/" + sub, Namespaced: r.Namespaced, Kind: r.Kind, Verbs: []string{"get", "patch", "update"}}
			switch sub {
			case "scale":
				ar.Group, ar.Version, ar.Kind = "autoscaling", "v1", "Scale"
			case "binding":
				ar.Verbs = []string{"create"}
				ar.Kind = "Binding"
			}
			out = append(out, ar)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
