package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// finalizeHandler serves PUT namespaces/<name>/finalize, the one way to
// change a namespace's spec.finalizers (as in Kubernetes): it writes the
// request's spec.finalizers and nothing else. Once a namespace being
// deleted has none left (nor metadata finalizers), the store deletes it.
// A resourceVersion in the request is a precondition (409); fences and
// dryRun are honoured like on every write.
type finalizeHandler struct {
	namespaces *store.Store[*api.Namespace]
	maxBody    int64
}

func (f finalizeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := infoOf(r)
	if err := f.finalize(w, r, info); err != nil {
		writeStatus(w, rest.ResourceErrorStatus(err, api.NamespaceResource, info.Name))
	}
}

func (f finalizeHandler) finalize(w http.ResponseWriter, r *http.Request, info rest.RequestInfo) error {
	if r.Method != http.MethodPut {
		return watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, "namespaces/finalize only supports PUT")
	}
	var in api.Namespace
	if err := rest.DecodeBody(w, r, f.maxBody, &in, "Namespace", "v1"); err != nil {
		return err
	}
	if in.Name != "" && in.Name != info.Name {
		return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest,
			fmt.Sprintf("the name of the object (%q) does not match the name on the URL (%q)", in.Name, info.Name))
	}
	if err := registry.ValidateNamespaceFinalizers(in.Spec.Finalizers); err != nil {
		return err
	}
	ctx, err := rest.WriteContext(r)
	if err != nil {
		return err
	}
	out, err := f.namespaces.GuaranteedUpdate(ctx, "", info.Name, func(n *api.Namespace) (*api.Namespace, error) {
		if in.ResourceVersion != "" && in.ResourceVersion != n.ResourceVersion {
			return nil, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf(
				"Operation cannot be fulfilled on namespaces %q: the object has been modified; please apply your changes to the latest version and try again", info.Name))
		}
		n.Spec.Finalizers = slices.Clone(in.Spec.Finalizers)
		return n, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(out)
}
