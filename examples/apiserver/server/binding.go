package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// bind serves POST pods/<name>/binding: it sets the pod's spec.nodeName to
// the Binding's target, once. A pod already bound (to any node) gives 409;
// a bad Binding 400 or 422; nothing is written then.
func (s *Server) bind(ctx context.Context, w http.ResponseWriter, r *http.Request, info rest.RequestInfo) error {
	if r.Method != http.MethodPost {
		return watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, "pods/binding only supports POST")
	}
	limit := s.cfg.MaxBodyBytes
	if limit == 0 {
		limit = rest.DefaultMaxBodyBytes
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge, "request body too large")
		}
		return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, "reading body: "+err.Error())
	}
	var b api.Binding
	if err := json.Unmarshal(data, &b); err != nil {
		return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, "decoding Binding: "+err.Error())
	}
	if b.Name != "" && b.Name != info.Name {
		return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest,
			fmt.Sprintf("the Binding's name %q does not match the pod %q", b.Name, info.Name))
	}
	if err := api.ValidateBinding(&b); err != nil {
		return err
	}
	uid := b.UID
	_, err = s.pods.GuaranteedUpdate(ctx, info.Namespace, info.Name, func(p *api.Pod) (*api.Pod, error) {
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
		p.Spec.NodeName = b.Target.Name
		return p, nil
	})
	if err != nil {
		return err
	}
	st := &watch.Status{Kind: "Status", APIVersion: "v1", Status: "Success", Code: http.StatusCreated}
	writeStatus(w, st)
	return nil
}
