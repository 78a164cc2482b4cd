package apiserver

import (
	"fmt"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// bindingHandler serves POST pods/<name>/binding: it sets the pod's
// spec.nodeName to the Binding's target, once. A pod already bound (to any
// node) gives 409; a bad Binding 400 or 422; nothing is written then.
type bindingHandler struct {
	pods    *store.Store[*api.Pod]
	maxBody int64
}

func (b bindingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := infoOf(r)
	if err := b.bind(w, r, info); err != nil {
		writeStatus(w, rest.ResourceErrorStatus(err, api.PodResource, info.Name))
	}
}

func (b bindingHandler) bind(w http.ResponseWriter, r *http.Request, info rest.RequestInfo) error {
	if r.Method != http.MethodPost {
		return watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, "pods/binding only supports POST")
	}
	var bd api.Binding
	if err := rest.DecodeBody(w, r, b.maxBody, &bd, "Binding", "v1"); err != nil {
		return err
	}
	if bd.Name != "" && bd.Name != info.Name {
		return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest,
			fmt.Sprintf("the Binding's name %q does not match the pod %q", bd.Name, info.Name))
	}
	if err := registry.ValidateBinding(&bd); err != nil {
		return err
	}
	// The binding honours the request's fences and dryRun, in the same
	// transaction as the write, like every other write.
	ctx, err := rest.WriteContext(r)
	if err != nil {
		return err
	}
	uid := bd.UID
	_, err = b.pods.GuaranteedUpdate(ctx, info.Namespace, info.Name, func(p *api.Pod) (*api.Pod, error) {
		if uid != "" && p.UID != uid {
			return nil, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf("pod %s/%s has UID %s, not %s", p.Namespace, p.Name, p.UID, uid))
		}
		if p.DeletionTimestamp != nil {
			return nil, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf("pod %s/%s is being deleted", p.Namespace, p.Name))
		}
		if p.Spec.NodeName != "" {
			return nil, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict,
				fmt.Sprintf("Operation cannot be fulfilled on pods/binding %q: pod %s is already assigned to node %q", p.Name, p.Name, p.Spec.NodeName))
		}
		p.Spec.NodeName = bd.Target.Name
		return p, nil
	})
	if err != nil {
		return err
	}
	writeStatus(w, &watch.Status{Kind: "Status", APIVersion: "v1", Status: "Success", Code: http.StatusCreated})
	return nil
}
