package registry

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// errs collects field errors.
type errs struct{ list store.FieldErrors }

// add reports an invalid field; value is a string, a named string type or
// anything fmt prints.
func (e *errs) add(field string, value any, reason string) {
	e.list = append(e.list, &store.FieldError{Field: field, Value: fmt.Sprint(value), Reason: reason})
}

func (e *errs) required(field, what string) { e.add(field, "", "Required value: "+what) }

// notSupported reports a value that is not one of supported (strings or
// named string types).
func (e *errs) notSupported(field string, value any, supported ...any) {
	q := make([]string, len(supported))
	for i, s := range supported {
		q[i] = fmt.Sprintf("%q", fmt.Sprint(s))
	}
	e.add(field, fmt.Sprint(value), "Unsupported value: supported values: "+strings.Join(q, ", "))
}

func (e *errs) merge(more store.FieldErrors) { e.list = append(e.list, more...) }

func idx(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

var (
	dns1123LabelRe  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1035LabelRe  = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	labelNameRe     = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	envNameRe       = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)
	portNameRe      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	portNameLetters = regexp.MustCompile(`[a-z]`)
)

// dnsLabel returns why s is not a DNS-1123 label ("" if it is).
func dnsLabel(s string) string {
	if len(s) > 63 {
		return "must be no more than 63 characters"
	}
	if !dns1123LabelRe.MatchString(s) {
		return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
	}
	return ""
}

// dnsSubdomain returns why s is not a DNS-1123 subdomain ("" if it is).
func dnsSubdomain(s string) string {
	if len(s) > 253 {
		return "must be no more than 253 characters"
	}
	for _, part := range strings.Split(s, ".") {
		if !dns1123LabelRe.MatchString(part) {
			return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
		}
	}
	return ""
}

// dns1035 returns why s is not a DNS-1035 label ("" if it is).
func dns1035(s string) string {
	if len(s) > 63 {
		return "must be no more than 63 characters"
	}
	if !dns1035LabelRe.MatchString(s) {
		return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
	}
	return ""
}

// nameRules says how each kind's names are checked.
var nameRules = map[string]func(string) string{
	"Namespace": dnsLabel,
	"Service":   dns1035,
}

func validateMeta(m *store.ObjectMeta, r store.Resource) store.FieldErrors {
	var e errs
	rule := nameRules[r.Kind]
	if rule == nil {
		rule = dnsSubdomain
	}
	if m.GenerateName != "" {
		// The prefix obeys the kind's name rules too (the generated name
		// is checked below, as metadata.name).
		if why := rule(store.MaskTrailingDash(m.GenerateName)); why != "" {
			e.add("metadata.generateName", m.GenerateName, "Invalid value: "+why)
		}
	}
	switch {
	case m.Name == "" && m.GenerateName == "":
		e.required("metadata.name", "name or generateName is required")
	case m.Name != "":
		if why := rule(m.Name); why != "" {
			e.add("metadata.name", m.Name, "Invalid value: "+why)
		}
	}
	if r.Namespaced {
		if m.Namespace == "" {
			e.required("metadata.namespace", "a namespace is required for "+r.Name)
		} else if why := dnsLabel(m.Namespace); why != "" {
			e.add("metadata.namespace", m.Namespace, "Invalid value: "+why)
		}
	} else if m.Namespace != "" {
		e.add("metadata.namespace", m.Namespace, "Forbidden: "+r.Name+" are not namespaced")
	}
	validateLabels(&e, "metadata.labels", m.Labels)
	for i, f := range m.Finalizers {
		if f == "" {
			e.required(idx("metadata.finalizers", i), "a finalizer name")
		}
	}
	return e.list
}

// qualifiedName returns why k is not a valid label key ("" if it is).
func qualifiedName(k string) string {
	name := k
	if i := strings.IndexByte(k, '/'); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if prefix == "" {
			return "prefix part must be non-empty"
		}
		if why := dnsSubdomain(prefix); why != "" {
			return "prefix part " + why
		}
	}
	if name == "" {
		return "name part must be non-empty"
	}
	if len(name) > 63 {
		return "name part must be no more than 63 characters"
	}
	if !labelNameRe.MatchString(name) {
		return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
	}
	return ""
}

func labelValue(v string) string {
	if v == "" {
		return ""
	}
	if len(v) > 63 {
		return "must be no more than 63 characters"
	}
	if !labelNameRe.MatchString(v) {
		return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
	}
	return ""
}

func validateLabels(e *errs, path string, labels map[string]string) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if why := qualifiedName(k); why != "" {
			e.add(path, k, "Invalid value: "+why)
		}
		if why := labelValue(labels[k]); why != "" {
			e.add(path+"["+k+"]", labels[k], "Invalid value: "+why)
		}
	}
}

// validateLabelSelector checks a stored label selector as Kubernetes'
// ValidateLabelSelector does: valid label keys and values in matchLabels and
// in every expression, a known operator, values for In and NotIn and none
// for Exists and DoesNotExist. It reports whether the selector is valid.
func validateLabelSelector(e *errs, path string, sel *api.LabelSelector) bool {
	n := len(e.list)
	validateLabels(e, path+".matchLabels", sel.MatchLabels)
	for i, r := range sel.MatchExpressions {
		p := idx(path+".matchExpressions", i)
		if why := qualifiedName(r.Key); why != "" {
			e.add(p+".key", r.Key, "Invalid value: "+why)
		}
		switch r.Operator {
		case api.LabelSelectorOpIn, api.LabelSelectorOpNotIn:
			if len(r.Values) == 0 {
				e.required(p+".values", "must be specified when `operator` is 'In' or 'NotIn'")
			}
		case api.LabelSelectorOpExists, api.LabelSelectorOpDoesNotExist:
			if len(r.Values) > 0 {
				e.add(p+".values", "", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
			}
		default:
			e.add(p+".operator", string(r.Operator), "Invalid value: not a valid selector operator")
		}
		for j, v := range r.Values {
			if why := labelValue(v); why != "" {
				e.add(idx(p+".values", j), v, "Invalid value: "+why)
			}
		}
	}
	return len(e.list) == n
}

// portName returns why s is not an IANA service name ("" if it is).
func portName(s string) string {
	switch {
	case len(s) > 15:
		return "must be no more than 15 characters"
	case !portNameRe.MatchString(s):
		return "must contain only lower case alphanumeric characters or '-' and start and end with an alphanumeric character"
	case strings.Contains(s, "--"):
		return "must not contain consecutive hyphens"
	case !portNameLetters.MatchString(s):
		return "must contain at least one letter"
	}
	return ""
}

func validatePort(e *errs, path string, p int32, allowZero bool) {
	if p == 0 && allowZero {
		return
	}
	if p < 1 || p > 65535 {
		e.add(path, fmt.Sprint(p), "Invalid value: must be between 1 and 65535, inclusive")
	}
}

func validateIntOrStringPort(e *errs, path string, p api.IntOrString) {
	if p.IsString {
		if why := portName(p.StrVal); why != "" {
			e.add(path, p.StrVal, "Invalid value: "+why)
		}
		return
	}
	validatePort(e, path, p.IntVal, false)
}

func validateProtocol(e *errs, path string, proto api.Protocol) {
	switch proto {
	case "TCP", "UDP", "SCTP":
	case "":
		e.required(path, "a protocol")
	default:
		e.notSupported(path, proto, "SCTP", "TCP", "UDP")
	}
}

func validateIP(e *errs, path, ip string) {
	if _, err := netip.ParseAddr(ip); err != nil {
		e.add(path, ip, "Invalid value: must be a valid IP address")
	}
}

func sortedNames(rl api.ResourceList) []api.ResourceName {
	names := make([]api.ResourceName, 0, len(rl))
	for n := range rl {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func validateResourceList(e *errs, path string, rl api.ResourceList) {
	for _, n := range sortedNames(rl) {
		if n == "" {
			e.add(path, "", "Invalid value: resource name must be non-empty")
			continue
		}
		if q := rl[n]; q.Sign() < 0 {
			e.add(path+"["+string(n)+"]", q.String(), "Invalid value: must be greater than or equal to 0")
		}
	}
}

func validateNonNegative(e *errs, path string, v int64) {
	if v < 0 {
		e.add(path, fmt.Sprint(v), "Invalid value: must be greater than or equal to 0")
	}
}

// validateIntOrPercent checks a maxSurge/maxUnavailable value.
func validateIntOrPercent(e *errs, path string, v *api.IntOrString, capAt100 bool) {
	if v == nil {
		return
	}
	if !v.IsString {
		validateNonNegative(e, path, int64(v.IntVal))
		return
	}
	p, ok := strings.CutSuffix(v.StrVal, "%")
	n := 0
	_, err := fmt.Sscanf(p, "%d", &n)
	if !ok || err != nil || fmt.Sprint(n) != p || n < 0 {
		e.add(path, v.StrVal, "Invalid value: must be an integer or percentage (e.g '5%')")
		return
	}
	if capAt100 && n > 100 {
		e.add(path, v.StrVal, "Invalid value: must not be greater than 100%")
	}
}

func isZeroIntOrPercent(v *api.IntOrString) bool {
	if v == nil {
		return true
	}
	if v.IsString {
		return v.StrVal == "0%" || v.StrVal == "0"
	}
	return v.IntVal == 0
}

// anys converts a list of strings or named strings for notSupported.
func anys[S ~string](list []S) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}
