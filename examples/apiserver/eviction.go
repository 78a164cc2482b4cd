package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// evictionRetries bounds the compare-and-swap retries of one eviction (a
// pod or budget changing under it).
const evictionRetries = 20

// evictionHandler serves POST pods/<name>/eviction (a policy/v1 Eviction,
// also accepted as policy/v1beta1): it deletes the pod unless a
// PodDisruptionBudget forbids it, as Kubernetes does. A pod that has
// finished, has not started or is being deleted goes without consulting
// budgets; otherwise the one budget that selects it must allow a
// disruption, which the eviction uses up (recorded in the budget's status)
// before the pod is deleted. Refusals are 429 TooManyRequests with a
// DisruptionBudget cause (403 for a corrupt budget, 500 when two budgets
// select the pod); success is 201 with a Success Status. dryRun=All checks
// everything and writes nothing.
type evictionHandler struct {
	pods    *store.Store[*api.Pod]
	budgets *store.Store[*policy.PodDisruptionBudget]
	clock   clockwork.Clock
	maxBody int64
}

func (h evictionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := infoOf(r)
	if err := h.evict(r.Context(), w, r, info); err != nil {
		rest.WriteStatus(w, rest.ResourceErrorStatus(err, api.PodResource, info.Name))
	}
}

func (h evictionHandler) evict(ctx context.Context, w http.ResponseWriter, r *http.Request, info rest.RequestInfo) error {
	if r.Method != http.MethodPost {
		return watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, "pods/eviction only supports POST")
	}
	ev, dryRun, err := h.decode(w, r, info)
	if err != nil {
		return err
	}
	var opts []store.DeleteOption
	preconditionRV := false
	if do := ev.DeleteOptions; do != nil && do.Preconditions != nil {
		if uid := do.Preconditions.UID; uid != nil {
			opts = append(opts, store.WithPreconditionUID(*uid))
		}
		if rv := do.Preconditions.ResourceVersion; rv != nil {
			opts = append(opts, store.WithPreconditionResourceVersion(*rv))
			preconditionRV = true
		}
	}
	for attempt := 0; ; attempt++ {
		err := h.once(ctx, info, opts, preconditionRV, dryRun)
		if err == nil {
			rest.WriteStatus(w, &watch.Status{Kind: "Status", APIVersion: "v1", Status: watch.StatusSuccess, Code: http.StatusCreated})
			return nil
		}
		if errors.Is(err, errRetryEviction) && attempt < evictionRetries {
			continue
		}
		if errors.Is(err, errRetryEviction) {
			return watch.NewStatusError(http.StatusGatewayTimeout, watch.StatusReasonTimeout, fmt.Sprintf("couldn't evict pod %q due to conflicts", info.Name))
		}
		return err
	}
}

// errRetryEviction: the pod or the budget changed meanwhile; try again.
var errRetryEviction = errors.New("retry eviction")

// once makes one attempt: read the pod and budgets, decide, write.
func (h evictionHandler) once(ctx context.Context, info rest.RequestInfo, opts []store.DeleteOption, preconditionRV, dryRun bool) error {
	pod, err := h.pods.Get(ctx, info.Namespace, info.Name)
	if err != nil {
		return err
	}
	del := func(extra ...store.DeleteOption) error {
		if dryRun {
			return nil
		}
		_, err := h.pods.Delete(ctx, pod.Namespace, pod.Name, append(slices.Clone(opts), extra...)...)
		if errors.Is(err, store.ErrConflict) && !preconditionRV && len(extra) > 0 {
			return errRetryEviction
		}
		return err
	}
	// the pod's state must not change between the decision and the delete
	pinned := []store.DeleteOption{}
	if !preconditionRV {
		pinned = append(pinned, store.WithPreconditionResourceVersion(pod.ResourceVersion))
	}
	if registry.EvictionIgnoresBudgets(pod) {
		if pod.Status.Phase == api.PodSucceeded || pod.Status.Phase == api.PodFailed || pod.DeletionTimestamp != nil {
			return del()
		}
		return del(pinned...)
	}
	list, err := h.budgets.List(ctx, pod.Namespace, store.ListOptions{})
	if err != nil {
		return err
	}
	matching := registry.BudgetsFor(pod, list.Items)
	switch {
	case len(matching) > 1:
		return registry.ErrTooManyBudgets
	case len(matching) == 0:
		return del(pinned...)
	}
	pdb := matching[0]
	if registry.UnhealthyMayGo(pod, pdb) {
		err := del(pinned...)
		if errors.Is(err, errRetryEviction) {
			return registry.BudgetStillProcessing(pdb.Name)
		}
		return err
	}
	status, err := registry.CheckAndDecrement(pod.Name, pdb, h.clock.Now())
	if err != nil {
		return err
	}
	if dryRun {
		return nil
	}
	pdb.Status = *status
	if _, err := h.budgets.Update(ctx, pdb); err != nil {
		if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFenced) {
			return errRetryEviction
		}
		return err
	}
	return del()
}

// decode reads the Eviction: its name must be the pod's; dryRun comes
// from the query or the Eviction's DeleteOptions (All is the only value).
func (h evictionHandler) decode(w http.ResponseWriter, r *http.Request, info rest.RequestInfo) (*policy.Eviction, bool, error) {
	var ev policy.Eviction
	if err := rest.DecodeBody(w, r, h.maxBody, &ev, "Eviction", "policy/v1", "policy/v1beta1"); err != nil {
		return nil, false, err
	}
	if ev.Name != info.Name {
		return nil, false, watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, "name in URL does not match name in Eviction object")
	}
	var dry []string
	dry = append(dry, r.URL.Query()["dryRun"]...)
	if ev.DeleteOptions != nil {
		dry = append(dry, ev.DeleteOptions.DryRun...)
	}
	for _, d := range dry {
		if d != "All" {
			return nil, false, watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, fmt.Sprintf("invalid dryRun %q: the only supported value is All", d))
		}
	}
	return &ev, len(dry) > 0, nil
}
