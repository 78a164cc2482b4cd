package job

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseIndexes parses a completed-indexes string as Kubernetes writes it
// in status.completedIndexes and status.failedIndexes: comma-separated
// indexes and inclusive ranges in increasing order ("1,3-5,7"). The empty
// string is the empty set. Indexes at or above completions, ranges out of
// order, overlaps and malformed parts are errors naming the part.
func ParseIndexes(s string, completions int32) ([]int32, error) {
	if s == "" {
		return nil, nil
	}
	var out []int32
	last := int32(-1)
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseIndex(lo, completions)
		if err != nil {
			return nil, fmt.Errorf("index set %q: part %q: %w", s, part, err)
		}
		b := a
		if isRange {
			if b, err = parseIndex(hi, completions); err != nil {
				return nil, fmt.Errorf("index set %q: part %q: %w", s, part, err)
			}
			if b <= a {
				return nil, fmt.Errorf("index set %q: part %q: range end is not above its start", s, part)
			}
		}
		if a <= last {
			return nil, fmt.Errorf("index set %q: part %q: indexes are not increasing", s, part)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
		last = b
	}
	return out, nil
}

func parseIndex(s string, completions int32) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	switch {
	case err != nil || s == "" || s[0] == '+':
		return 0, fmt.Errorf("%q is not an index", s)
	case n < 0:
		return 0, fmt.Errorf("index %d is negative", n)
	case n >= int64(completions):
		return 0, fmt.Errorf("index %d is not below completions %d", n, completions)
	}
	return int32(n), nil
}

// FormatIndexes writes a set of indexes (any order, duplicates allowed)
// the way ParseIndexes reads it: sorted, runs of three or more as ranges
// ("0-2"), pairs as two indexes ("4,5"), as Kubernetes does.
func FormatIndexes(idx []int32) string {
	s := slices.Clone(idx)
	slices.Sort(s)
	s = slices.Compact(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		switch {
		case j == i:
			b.WriteString(strconv.Itoa(int(s[i])))
		case j == i+1:
			fmt.Fprintf(&b, "%d,%d", s[i], s[j])
		default:
			fmt.Fprintf(&b, "%d-%d", s[i], s[j])
		}
		i = j + 1
	}
	return b.String()
}
