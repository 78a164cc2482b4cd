package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// DryRunAll is the one dryRun value Kubernetes defines: run every stage of
// the write (admission, validation, preconditions, fences) except storing.
const DryRunAll = "All"

// parseDryRun checks the values of a dryRun parameter (query or
// DeleteOptions body): none, or "All" only. Anything else is a 400 that
// names it, and the request does nothing.
func parseDryRun(vals []string) (bool, error) {
	for _, v := range vals {
		if v != DryRunAll {
			return false, badRequest("invalid dryRun %q: the only supported value is %q", v, DryRunAll)
		}
	}
	return len(vals) > 0, nil
}

// writeContext returns ctx for a create, update or patch: a dry run
// (store.WithDryRun) when the query says dryRun=All.
func writeContext(ctx context.Context, q url.Values) (context.Context, error) {
	dry, err := parseDryRun(q["dryRun"])
	if err != nil {
		return nil, err
	}
	if dry {
		ctx = store.WithDryRun(ctx)
	}
	return ctx, nil
}

// The propagation policies of DeleteOptions (store.PropagationPolicy
// values, as strings).
const (
	PropagationOrphan     = string(store.PropagationOrphan)
	PropagationBackground = string(store.PropagationBackground)
	PropagationForeground = string(store.PropagationForeground)
)

// DeleteOptions is the part of Kubernetes' meta/v1 DeleteOptions a delete
// honours or checks.
type DeleteOptions struct {
	Kind               string         `json:"kind,omitempty"`
	APIVersion         string         `json:"apiVersion,omitempty"`
	Preconditions      *Preconditions `json:"preconditions,omitempty"`
	GracePeriodSeconds *int64         `json:"gracePeriodSeconds,omitempty"`
	PropagationPolicy  *string        `json:"propagationPolicy,omitempty"`
	OrphanDependents   *bool          `json:"orphanDependents,omitempty"`
	DryRun             []string       `json:"dryRun,omitempty"`
}

// Preconditions are DeleteOptions' preconditions.
type Preconditions struct {
	UID             *string `json:"uid,omitempty"`
	ResourceVersion *string `json:"resourceVersion,omitempty"`
}

// parseDeleteOptions reads a delete's options, as Kubernetes does: from the
// body (DeleteOptions) when there is one, else from the query
// (gracePeriodSeconds, propagationPolicy, orphanDependents, dryRun). A
// malformed body or value is 400; options that break ValidateDeleteOptions
// (an unknown propagationPolicy, orphanDependents together with
// propagationPolicy) are 422 Invalid on DeleteOptions; a negative grace
// period counts as 1 second, as in Kubernetes. A body is decoded by decode
// (JSON or protobuf, as its Content-Type says). It returns the store
// preconditions, the requested grace period (nil when unset) and ctx made a
// dry run when the options say dryRun=All.
func parseDeleteOptions(ctx context.Context, w http.ResponseWriter, r *http.Request, maxBody int64, decode func(data []byte, do *DeleteOptions) error) (context.Context, []store.DeleteOption, *int64, error) {
	var do DeleteOptions
	var data []byte
	if r.Body != nil && r.ContentLength != 0 {
		var err error
		if data, err = readBody(w, r, maxBody, true); err != nil {
			return nil, nil, nil, err
		}
	}
	if len(data) > 0 {
		if err := decode(data, &do); err != nil {
			return nil, nil, nil, err
		}
	} else {
		q := r.URL.Query()
		do.DryRun = q["dryRun"]
		if s := q.Get("gracePeriodSeconds"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, nil, nil, badRequest("invalid gracePeriodSeconds %q: must be an integer", s)
			}
			do.GracePeriodSeconds = &n
		}
		if s, ok := q["propagationPolicy"]; ok {
			do.PropagationPolicy = &s[0]
		}
		if s := q.Get("orphanDependents"); s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, nil, nil, badRequest("invalid orphanDependents %q: must be true or false", s)
			}
			do.OrphanDependents = &b
		}
	}
	dry, err := parseDryRun(do.DryRun)
	if err != nil {
		return nil, nil, nil, err
	}
	var causes []watch.StatusCause
	if do.OrphanDependents != nil && do.PropagationPolicy != nil {
		causes = append(causes, watch.StatusCause{Type: CauseFieldValueInvalid, Field: "propagationPolicy",
			Message: fmt.Sprintf("Invalid value: %q: orphanDependents and deletionPropagation cannot be both set", *do.PropagationPolicy)})
	}
	if p := do.PropagationPolicy; p != nil && *p != PropagationOrphan && *p != PropagationBackground && *p != PropagationForeground {
		causes = append(causes, watch.StatusCause{Type: CauseFieldValueNotSupported, Field: "propagationPolicy",
			Message: fmt.Sprintf("Unsupported value: %q: supported values: %q, %q, %q, \"nil\"", *p, PropagationForeground, PropagationBackground, PropagationOrphan)})
	}
	if len(causes) > 0 {
		return nil, nil, nil, invalidOptions("DeleteOptions", causes)
	}
	var opts []store.DeleteOption
	if p := do.Preconditions; p != nil {
		if p.UID != nil {
			opts = append(opts, store.WithPreconditionUID(*p.UID))
		}
		if p.ResourceVersion != nil {
			if _, err := store.ParseRevision(*p.ResourceVersion); err != nil {
				return nil, nil, nil, badRequest("invalid preconditions.resourceVersion %q", *p.ResourceVersion)
			}
			opts = append(opts, store.WithPreconditionResourceVersion(*p.ResourceVersion))
		}
	}
	// The policy's finalizer is set by the delete itself (see
	// store.WithPropagationPolicy); orphanDependents is the deprecated
	// spelling of Orphan (true) or Background (false).
	switch {
	case do.PropagationPolicy != nil:
		opts = append(opts, store.WithPropagationPolicy(store.PropagationPolicy(*do.PropagationPolicy)))
	case do.OrphanDependents != nil && *do.OrphanDependents:
		opts = append(opts, store.WithPropagationPolicy(store.PropagationOrphan))
	case do.OrphanDependents != nil:
		opts = append(opts, store.WithPropagationPolicy(store.PropagationBackground))
	}
	if dry {
		ctx = store.WithDryRun(ctx)
	}
	return ctx, opts, do.GracePeriodSeconds, nil
}
