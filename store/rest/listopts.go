package rest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// The resourceVersionMatch values.
const (
	// MatchExact serves a list at exactly the given resourceVersion.
	MatchExact = "Exact"
	// MatchNotOlderThan serves a list (or the initial events of a watch)
	// at least as new as the given resourceVersion.
	MatchNotOlderThan = "NotOlderThan"
)

// MaxTimeoutSeconds is the largest timeoutSeconds a watch keeps; larger
// values (which would overflow a time.Duration) are clamped to it.
const MaxTimeoutSeconds = math.MaxInt64 / int64(time.Second)

// listParams are the validated query parameters of a list or a watch.
type listParams struct {
	// rv is resourceVersion as a number; rvSet says it was given (even as
	// "0").
	rv    int64
	rvSet bool
	match string
	limit int64
	cont  string
	// sendInitial is sendInitialEvents: nil when unset.
	sendInitial *bool
	bookmarks   bool
	// timeout is timeoutSeconds (0: none), clamped to MaxTimeoutSeconds.
	timeout time.Duration
}

// parseListParams parses and validates the resourceVersion, paging and
// watch parameters as Kubernetes does (ValidateListOptions and the
// resourceVersion table of the API concepts documentation): malformed
// numbers are 400 naming the parameter, forbidden combinations 422 Invalid
// on ListOptions with one cause per rule broken.
func parseListParams(q url.Values, watching bool) (listParams, error) {
	var p listParams
	var err error
	if s := q.Get("resourceVersion"); s != "" {
		if p.rv, err = parseRV(s); err != nil {
			return p, err
		}
		p.rvSet = true
	}
	p.match = q.Get("resourceVersionMatch")
	p.cont = q.Get("continue")
	if s := q.Get("limit"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return p, badRequest("invalid limit %q: must be a non-negative integer", s)
		}
		p.limit = n
	}
	if s, ok := q["sendInitialEvents"]; ok {
		b, err := strconv.ParseBool(s[0])
		if err != nil {
			return p, badRequest("invalid sendInitialEvents %q: must be true or false", s[0])
		}
		p.sendInitial = &b
	}
	if s := q.Get("allowWatchBookmarks"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return p, badRequest("invalid allowWatchBookmarks %q: must be true or false", s)
		}
		p.bookmarks = b
	}
	if s := q.Get("timeoutSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil && strings.Trim(s, "0123456789") == "" && s != "" {
			n, err = MaxTimeoutSeconds, nil // more digits than an int64: clamped too
		}
		if err != nil || n < 0 {
			return p, badRequest("invalid timeoutSeconds %q: must be a non-negative integer", s)
		}
		p.timeout = time.Duration(min(n, MaxTimeoutSeconds)) * time.Second
	}

	var causes []watch.StatusCause
	forbid := func(msg string) {
		causes = append(causes, watch.StatusCause{Type: CauseFieldValueForbidden, Field: "resourceVersionMatch", Message: "Forbidden: " + msg})
	}
	notSupported := func(supported ...string) {
		q := make([]string, len(supported))
		for i, s := range supported {
			q[i] = strconv.Quote(s)
		}
		causes = append(causes, watch.StatusCause{Type: CauseFieldValueNotSupported, Field: "resourceVersionMatch",
			Message: fmt.Sprintf("Unsupported value: %q: supported values: %s", p.match, strings.Join(q, ", "))})
	}
	if watching {
		if p.sendInitial != nil && p.match != MatchNotOlderThan {
			forbid("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
		}
		if p.match != "" {
			if p.sendInitial == nil {
				forbid("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
			}
			if p.match != MatchNotOlderThan {
				notSupported(MatchNotOlderThan)
			}
			if p.cont != "" {
				forbid("resourceVersionMatch is forbidden when continue is provided")
			}
		}
	} else {
		if p.match != "" {
			if !p.rvSet {
				forbid("resourceVersionMatch is forbidden unless resourceVersion is provided")
			}
			if p.cont != "" {
				forbid("resourceVersionMatch is forbidden when continue is provided")
			}
			if p.match != MatchExact && p.match != MatchNotOlderThan {
				notSupported(MatchExact, MatchNotOlderThan, "")
			}
			if p.match == MatchExact && p.rvSet && p.rv == 0 {
				forbid(`resourceVersionMatch "exact" is forbidden for resourceVersion "0"`)
			}
		}
		if p.sendInitial != nil {
			causes = append(causes, watch.StatusCause{Type: CauseFieldValueForbidden, Field: "sendInitialEvents", Message: "Forbidden: sendInitialEvents is forbidden for list"})
		}
	}
	if len(causes) > 0 {
		return p, invalidOptions("ListOptions", causes)
	}
	if !watching && p.cont != "" && p.rv != 0 {
		return p, badRequest("specifying resource version is not allowed when using continue")
	}
	return p, nil
}

// The StatusCause types of Kubernetes' field errors.
const (
	CauseFieldValueInvalid      = "FieldValueInvalid"
	CauseFieldValueForbidden    = "FieldValueForbidden"
	CauseFieldValueNotSupported = "FieldValueNotSupported"
	CauseFieldValueRequired     = "FieldValueRequired"
	// CauseResourceVersionTooLarge marks a 504 for a resourceVersion newer
	// than the store's.
	CauseResourceVersionTooLarge = "ResourceVersionTooLarge"
)

// invalidOptions is a 422 Invalid for request options (kind ListOptions,
// DeleteOptions, ... of group meta.k8s.io), as Kubernetes answers them.
func invalidOptions(kind string, causes []watch.StatusCause) error {
	msgs := make([]string, len(causes))
	for i, c := range causes {
		msgs[i] = c.Field + ": " + c.Message
	}
	msg := strings.Join(msgs, ", ")
	if len(msgs) > 1 {
		msg = "[" + msg + "]"
	}
	st := watch.NewStatus(http.StatusUnprocessableEntity, watch.StatusReasonInvalid, fmt.Sprintf("%s.meta.k8s.io %q is invalid: %s", kind, "", msg))
	st.Details = &watch.StatusDetails{Group: "meta.k8s.io", Kind: kind, Causes: causes}
	return &watch.StatusError{Status: *st, Err: store.ErrInvalid}
}

// tooLargeRV is the 504 Kubernetes answers for a resourceVersion newer than
// the store's.
func tooLargeRV(want, current int64) error {
	st := watch.NewStatus(http.StatusGatewayTimeout, watch.StatusReasonTimeout, fmt.Sprintf("Too large resource version: %d, current: %d", want, current))
	st.Details = &watch.StatusDetails{Causes: []watch.StatusCause{{Type: CauseResourceVersionTooLarge, Message: "Too large resource version"}}}
	return &watch.StatusError{Status: *st}
}

// listSnapshot says at which revision a list is read: exact (0: the
// latest) and notOlderThan (0: any).
type listSnapshot struct {
	exact, notOlderThan int64
}

// snapshot applies the table of the API concepts documentation ("Resource
// versions: semantics for list"): no resourceVersion or "0" reads the
// latest state; a resourceVersion N reads at exactly N with
// resourceVersionMatch=Exact, or, without resourceVersionMatch, when a
// limit is given (the legacy rule that makes paging consistent); otherwise
// the latest state, which must be at least as new as N. A continue token
// carries its own revision.
func (p listParams) snapshot() listSnapshot {
	switch {
	case p.cont != "" || p.rv == 0:
		return listSnapshot{}
	case p.match == MatchExact, p.match == "" && p.limit > 0:
		return listSnapshot{exact: p.rv}
	default:
		return listSnapshot{notOlderThan: p.rv}
	}
}

// checkSnapshot refuses a list whose revision is newer than the store's
// (504 Too large resource version, as Kubernetes answers), before reading.
func (h *Handler[T]) checkSnapshot(ctx context.Context, s listSnapshot) error {
	want := max(s.exact, s.notOlderThan)
	if want == 0 {
		return nil
	}
	cur, err := h.st.Backend().Revision(ctx)
	if err != nil {
		return err
	}
	if want > cur {
		return tooLargeRV(want, cur)
	}
	return nil
}

// initialEvents applies the watch table of the API concepts documentation:
// with sendInitialEvents=true the watch first sends the current state
// (ADDED events, then, with allowWatchBookmarks, a bookmark annotated
// k8s.io/initial-events-end); without sendInitialEvents it does so only
// when no resourceVersion (or "0") is given; with sendInitialEvents=false
// never. listFirst reports whether the state is sent; sendInitial whether
// it was asked for explicitly.
func (p listParams) initialEvents() (sendInitial, listFirst bool) {
	sendInitial = p.sendInitial != nil && *p.sendInitial
	return sendInitial, sendInitial || p.sendInitial == nil && p.rv == 0
}

// watchPageSize is how many objects of a watch's initial state are read at
// a time: a watch over a large collection holds one page, not the whole
// collection.
const watchPageSize = 500

// initialState reads the first page of a watch's initial state (when
// listFirst) from the watch cache and returns it with the revision the
// watch starts after: the state's revision, which must not be older than
// rv (504 otherwise); or, without a state, rv itself, or the current
// revision for rv 0. The state is a consistent read, or one not older than
// rv when rv is given, as Kubernetes' watch cache serves it; its objects
// are the cache's, encoded once and shared.
func (h *Handler[T]) initialState(ctx context.Context, ns string, sel store.Selector, field func(store.Object) bool, rv int64, sendInitial, listFirst bool) (*store.EncodedList[T], int64, error) {
	if !listFirst {
		if rv != 0 {
			return nil, rv, nil
		}
		cur, err := h.st.Backend().Revision(ctx)
		return nil, cur, err
	}
	l, err := h.cache.List(ctx, ns, store.CachedListOptions{ListOptions: store.ListOptions{Selector: sel, Filter: field, Limit: watchPageSize}, MinRevision: rv})
	if err != nil {
		return nil, 0, err
	}
	if sendInitial && rv > l.Revision {
		return nil, 0, tooLargeRV(rv, l.Revision)
	}
	return l, l.Revision, nil
}

// nextInitialPage reads the page after prev, at prev's revision, or
// returns nil after the last one.
func (h *Handler[T]) nextInitialPage(ctx context.Context, ns string, sel store.Selector, field func(store.Object) bool, prev *store.EncodedList[T]) (*store.EncodedList[T], error) {
	if prev.Continue == "" {
		return nil, nil
	}
	return h.cache.List(ctx, ns, store.CachedListOptions{ListOptions: store.ListOptions{Selector: sel, Filter: field, Limit: watchPageSize, Continue: prev.Continue}})
}
