package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// bind serves POST pods/<name>/binding: it sets the pod's spec.nodeName to
// the Binding's target, once. A pod already bound (to any node) gives 409;
// a bad Binding 400 or 422; nothing is written then.
func (s *Server) bind(ctx context.Context, w http.ResponseWriter, r *http.Request, info rest.RequestInfo) error {
	if r.Method != http.MethodPost {
		return rest.NewStatusError(http.StatusMethodNotAllowed, rest.ReasonMethodNotAllowed, "pods/binding only supports POST")
	}
	limit := s.cfg.MaxBodyBytes
	if limit == 0 {
		limit = rest.DefaultMaxBodyBytes
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return rest.NewStatusError(http.StatusRequestEntityTooLarge, rest.ReasonRequestEntityTooLarge, "request body too large")
		}
		return rest.NewStatusError(http.StatusBadRequest, rest.ReasonBadRequest, "reading body: "+err.Error())
	}
	var b api.Binding
	if err := json.Unmarshal(data, &b); err != nil {
		return rest.NewStatusError(http.StatusBadRequest, rest.ReasonBadRequest, "decoding Binding: "+err.Error())
	}
	if b.Name != "" && b.Name != info.Name {
		return rest.NewStatusError(http.StatusBadRequest, rest.ReasonBadRequest,
			fmt.Sprintf("the Binding's name %q does not match the pod %q", b.Name, info.Name))
	}
	if err := registry.ValidateBinding(&b); err != nil {
		return err
	}
	uid := b.UID
	_, err = s.pods.GuaranteedUpdate(ctx, info.Namespace, info.Name, func(p *api.Pod) (*api.Pod, error) {
		if uid != "" && p.UID != uid {
			return nil, rest.NewStatusError(http.StatusConflict, rest.ReasonConflict, fmt.Sprintf("pod %s/%s has UID %s, not %s", p.Namespace, p.Name, p.UID, uid))
		}
		if p.DeletionTimestamp != nil {
			return nil, rest.NewStatusError(http.StatusConflict, rest.ReasonConflict, fmt.Sprintf("pod %s/%s is being deleted", p.Namespace, p.Name))
		}
		if p.Spec.NodeName != "" {
			return nil, rest.NewStatusError(http.StatusConflict, rest.ReasonConflict,
				fmt.Sprintf("Operation cannot be fulfilled on pods/binding %q: pod %s is already assigned to node %q", p.Name, p.Name, p.Spec.NodeName))
		}
		p.Spec.NodeName = b.Target.Name
		return p, nil
	})
	if err != nil {
		return err
	}
	st := &rest.Status{Kind: "Status", APIVersion: "v1", Status: "Success", Code: http.StatusCreated}
	writeStatus(w, st)
	return nil
}
