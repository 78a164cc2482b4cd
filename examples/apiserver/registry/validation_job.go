package registry

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/batch"
)

// Limits of a job's successPolicy, as in Kubernetes' batch validation.
const (
	// maxSuccessPolicyRules is the most rules a successPolicy may hold.
	maxSuccessPolicyRules = 20
	// maxSucceededIndexesBytes is the longest succeededIndexes string.
	maxSucceededIndexesBytes = 64 * 1024
)

// validateSuccessPolicy checks spec.successPolicy the way Kubernetes 1.32
// does: only for Indexed jobs; 1 to 20 rules; each rule sets
// succeededIndexes, succeededCount or both; succeededIndexes is an ordered,
// non-overlapping list of indexes and ranges below completions;
// succeededCount is positive, at most completions and, with
// succeededIndexes, at most the number of indexes listed.
func validateSuccessPolicy(e *errs, p string, s *batch.JobSpec) {
	pol := s.SuccessPolicy
	if pol == nil {
		return
	}
	p += ".successPolicy"
	if s.CompletionMode == nil || *s.CompletionMode != batch.IndexedCompletion {
		mode := batch.NonIndexedCompletion
		if s.CompletionMode != nil {
			mode = *s.CompletionMode
		}
		e.invalid(p, mode, fmt.Sprintf("requires completionMode %s", batch.IndexedCompletion))
		return
	}
	rp := p + ".rules"
	switch n := len(pol.Rules); {
	case n == 0:
		e.required(rp, "at least one rule must be specified when successPolicy is set")
		return
	case n > maxSuccessPolicyRules:
		e.add(rp, n, fmt.Sprintf("Too many: %d: must have at most %d items", n, maxSuccessPolicyRules))
		return
	}
	completions := int32(-1) // unknown: the required error on completions is reported already
	if s.Completions != nil {
		completions = *s.Completions
	}
	for i, r := range pol.Rules {
		ip := fmt.Sprintf("%s[%d]", rp, i)
		if r.SucceededIndexes == nil && r.SucceededCount == nil {
			e.required(ip, "at least one of succeededCount or succeededIndexes must be specified")
			continue
		}
		listed := int64(-1)
		if r.SucceededIndexes != nil {
			ix := *r.SucceededIndexes
			switch {
			case len(ix) > maxSucceededIndexesBytes:
				e.add(ip+".succeededIndexes", "", fmt.Sprintf("Too long: may not be more than %d bytes", maxSucceededIndexesBytes))
			case completions >= 0:
				n, err := countIndexes(ix, completions)
				if err != nil {
					e.invalid(ip+".succeededIndexes", ix, "error parsing succeededIndexes: "+err.Error())
				} else {
					listed = n
				}
			}
		}
		if c := r.SucceededCount; c != nil {
			switch {
			case *c <= 0:
				e.invalid(ip+".succeededCount", *c, "must be greater than or equal to 1")
			case completions >= 0 && *c > completions:
				e.invalid(ip+".succeededCount", *c, fmt.Sprintf("must be less than or equal to %d (the number of specified completions)", completions))
			case listed >= 0 && int64(*c) > listed:
				e.invalid(ip+".succeededCount", *c, fmt.Sprintf("must be less than or equal to %d (the number of indexes in the specified succeededIndexes field)", listed))
			}
		}
	}
}

// countIndexes parses an index set ("0,2-4,7": decimal indexes and
// inclusive ranges, in increasing order, no overlaps, each below
// completions, at least one) and returns how many indexes it names,
// without expanding the ranges.
func countIndexes(s string, completions int32) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("at least one index is required")
	}
	var total int64
	prev := int64(-1)
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := indexBelow(lo, completions)
		if err != nil {
			return 0, fmt.Errorf("part %q: %w", part, err)
		}
		b := a
		if isRange {
			if b, err = indexBelow(hi, completions); err != nil {
				return 0, fmt.Errorf("part %q: %w", part, err)
			}
			if b <= a {
				return 0, fmt.Errorf("part %q: non-increasing order, range end %d is not above its start %d", part, b, a)
			}
		}
		if a <= prev {
			return 0, fmt.Errorf("part %q: non-increasing order, previous: %d, current: %d", part, prev, a)
		}
		total += b - a + 1
		prev = b
	}
	return total, nil
}

// indexBelow parses one decimal index and checks 0 <= index < completions.
func indexBelow(s string, completions int32) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("%q is not a decimal index", s)
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a decimal index", s)
	}
	if n >= int64(completions) {
		return 0, fmt.Errorf("too large: %d, must be below completions %d", n, completions)
	}
	return n, nil
}
