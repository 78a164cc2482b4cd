package api

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
)

// IntOrString holds either an integer or a string ("8080" or "http",
// "25%"), like Kubernetes' intstr.IntOrString. It encodes as a bare JSON
// number or string.
type IntOrString struct {
	// IsString says which of the two fields is set.
	IsString bool
	IntVal   int32
	StrVal   string
}

// FromInt returns an integer IntOrString.
func FromInt(i int32) IntOrString { return IntOrString{IntVal: i} }

// FromString returns a string IntOrString.
func FromString(s string) IntOrString { return IntOrString{IsString: true, StrVal: s} }

// String returns the value as text.
func (v IntOrString) String() string {
	if v.IsString {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// MarshalJSON encodes a JSON number or string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.StrVal)
	}
	return strconv.AppendInt(nil, int64(v.IntVal), 10), nil
}

// UnmarshalJSON accepts a JSON string or an integer that fits in int32;
// null leaves v unchanged.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = FromString(s)
		return nil
	}
	i, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil {
		return fmt.Errorf("int-or-string: %s is neither a string nor a 32-bit integer", b)
	}
	*v = FromInt(int32(i))
	return nil
}

// ScaledValue resolves v against total: an integer is returned as is; a
// percentage "N%" is N% of total, rounded up if roundUp, else down.
func (v IntOrString) ScaledValue(total int, roundUp bool) (int, error) {
	if !v.IsString {
		return int(v.IntVal), nil
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	if !ok {
		return 0, fmt.Errorf("%q is not an integer or a percentage", v.StrVal)
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 {
		return 0, fmt.Errorf("%q is not a valid percentage", v.StrVal)
	}
	x := float64(p) * float64(total) / 100
	if roundUp {
		return int(math.Ceil(x)), nil
	}
	return int(math.Floor(x)), nil
}

// MicroTime is a timestamp with microsecond precision, RFC 3339 on the wire
// ("2006-01-02T15:04:05.000000Z"), like Kubernetes' metav1.MicroTime: the
// library's store.MicroTime (make one with store.NewMicroTime).
type MicroTime = store.MicroTime

// ListMeta is a list's metadata.
type ListMeta struct {
	// ResourceVersion is the store revision the list was read at.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Continue is the token for the next page; empty on the last page.
	Continue string `json:"continue,omitempty"`
	// RemainingItemCount estimates the items after this page, if known.
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
}

// List is the wire shape of every list: apiVersion, kind ("PodList"),
// metadata and items. The named aliases (PodList, ...) instantiate it.
type List[T any] struct {
	store.TypeMeta `json:",inline"`
	ListMeta       `json:"metadata"`
	// Items are the objects, in key order.
	Items []T `json:"items"`
}

// ObjectReference points at another object.
type ObjectReference struct {
	Kind            string `json:"kind,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// FieldPath names a part of the object, e.g. "spec.containers{web}".
	FieldPath string `json:"fieldPath,omitempty"`
}

// LabelSelector selects objects by labels: every matchLabels pair and every
// expression must hold. An empty selector matches everything; a nil one
// matches nothing where Kubernetes says so (workload selectors are required).
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one expression: key, operator and values.
type LabelSelectorRequirement struct {
	Key string `json:"key"`
	// Operator is In, NotIn, Exists or DoesNotExist.
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// Label selector operators.
const (
	OpIn           = "In"
	OpNotIn        = "NotIn"
	OpExists       = "Exists"
	OpDoesNotExist = "DoesNotExist"
)

// ErrSelector is wrapped by LabelSelector conversion errors; it also wraps
// store.ErrInvalid.
var ErrSelector = fmt.Errorf("%w: label selector", store.ErrInvalid)

// SelectorString converts the selector to the text syntax store selectors
// parse ("a=b,c in (x,y),!d"), with requirements in a canonical order (match
// labels by key, then expressions in order). A nil selector gives an error
// (it would match nothing, which text cannot express); an empty one gives "".
func (s *LabelSelector) SelectorString() (string, error) {
	if s == nil {
		return "", fmt.Errorf("%w: nil selector matches nothing", ErrSelector)
	}
	var parts []string
	keys := make([]string, 0, len(s.MatchLabels))
	for k := range s.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+s.MatchLabels[k])
	}
	for i, r := range s.MatchExpressions {
		if r.Key == "" {
			return "", fmt.Errorf("%w: matchExpressions[%d].key: required", ErrSelector, i)
		}
		switch r.Operator {
		case OpIn, OpNotIn:
			if len(r.Values) == 0 {
				return "", fmt.Errorf("%w: matchExpressions[%d].values: must be non-empty for %s", ErrSelector, i, r.Operator)
			}
			vals := append([]string(nil), r.Values...)
			sort.Strings(vals)
			op := " in "
			if r.Operator == OpNotIn {
				op = " notin "
			}
			parts = append(parts, r.Key+op+"("+strings.Join(vals, ",")+")")
		case OpExists, OpDoesNotExist:
			if len(r.Values) != 0 {
				return "", fmt.Errorf("%w: matchExpressions[%d].values: must be empty for %s", ErrSelector, i, r.Operator)
			}
			if r.Operator == OpExists {
				parts = append(parts, r.Key)
			} else {
				parts = append(parts, "!"+r.Key)
			}
		default:
			return "", fmt.Errorf("%w: matchExpressions[%d].operator: %q is not one of In, NotIn, Exists, DoesNotExist", ErrSelector, i, r.Operator)
		}
	}
	return strings.Join(parts, ","), nil
}

// Selector converts the selector to a store.Selector (for
// store.ListOptions and WatchOptions). Errors wrap ErrSelector (and so
// store.ErrInvalid) and name the problem.
func (s *LabelSelector) Selector() (store.Selector, error) {
	text, err := s.SelectorString()
	if err != nil {
		return store.Selector{}, err
	}
	sel, err := store.ParseSelector(text)
	if err != nil {
		return store.Selector{}, fmt.Errorf("%w: %v", ErrSelector, err)
	}
	return sel, nil
}

// Matches reports whether labels satisfy the selector. A nil selector
// matches nothing; an invalid operator matches nothing.
func (s *LabelSelector) Matches(labels map[string]string) bool {
	if s == nil {
		return false
	}
	for k, v := range s.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.MatchExpressions {
		v, ok := labels[r.Key]
		switch r.Operator {
		case OpIn:
			if !ok || !contains(r.Values, v) {
				return false
			}
		case OpNotIn:
			if ok && contains(r.Values, v) {
				return false
			}
		case OpExists:
			if !ok {
				return false
			}
		case OpDoesNotExist:
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
