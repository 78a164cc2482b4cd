package registry

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// errs collects field errors. Reasons follow Kubernetes' field error
// types ("Invalid value: ...", "Required value", "Unsupported value: ...",
// "Forbidden: ...", "Duplicate value", "Not found", "Too long: ...", "Too
// many: ..."), which the REST layer turns into Kubernetes' messages and
// causes.
type errs struct{ list store.FieldErrors }

// add reports an invalid field; value is a string, a named string type or
// anything fmt prints.
func (e *errs) add(field string, value any, reason string) {
	e.list = append(e.list, &store.FieldError{Field: field, Value: fmt.Sprint(value), Reason: reason})
}

// invalid reports an invalid value with Kubernetes' wording.
func (e *errs) invalid(field string, value any, detail string) {
	e.add(field, value, "Invalid value: "+detail)
}

// required reports a missing value; what, if given, is the detail.
func (e *errs) required(field string, what ...string) {
	reason := "Required value"
	if len(what) > 0 && what[0] != "" {
		reason += ": " + what[0]
	}
	e.add(field, "", reason)
}

func (e *errs) forbidden(field, detail string) { e.add(field, "", "Forbidden: "+detail) }

func (e *errs) duplicate(field string, value any) { e.add(field, value, "Duplicate value") }

func (e *errs) notFound(field string, value any) { e.add(field, value, "Not found") }

func (e *errs) immutable(field string, value any) { e.invalid(field, value, "field is immutable") }

// notSupported reports a value that is not one of supported (strings or
// named string types).
func (e *errs) notSupported(field string, value any, supported ...any) {
	q := make([]string, len(supported))
	for i, s := range supported {
		q[i] = strconv.Quote(fmt.Sprint(s))
	}
	e.add(field, fmt.Sprint(value), "Unsupported value: supported values: "+strings.Join(q, ", "))
}

// oneOf reports value unless it is one of allowed; empty is required.
func oneOf[S ~string](e *errs, field string, value S, allowed ...S) {
	if value == "" {
		e.required(field)
		return
	}
	if !slices.Contains(allowed, value) {
		e.notSupported(field, value, anys(allowed)...)
	}
}

// optionalOneOf is oneOf for optional fields.
func optionalOneOf[S ~string](e *errs, field string, value *S, allowed ...S) {
	if value != nil {
		oneOf(e, field, *value, allowed...)
	}
}

func (e *errs) merge(more store.FieldErrors) { e.list = append(e.list, more...) }

func idx(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func key(path, k string) string { return path + "[" + k + "]" }

var (
	dns1123LabelRe  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1035LabelRe  = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	labelNameRe     = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	configMapKeyRe  = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	cIdentifierRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	portNameRe      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	portNameLetters = regexp.MustCompile(`[a-z]`)
)

// dnsLabel returns why s is not a DNS-1123 label ("" if it is).
func dnsLabel(s string) string {
	if len(s) > 63 {
		return "must be no more than 63 characters"
	}
	if !dns1123LabelRe.MatchString(s) {
		return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
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
			return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
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
		return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
	}
	return ""
}

// pathSegment returns why s is not a valid path segment name (RBAC
// names: anything but "." and "..", without '/' and '%').
func pathSegment(s string) string {
	switch {
	case s == "." || s == "..":
		return fmt.Sprintf("may not be '%s'", s)
	case strings.ContainsAny(s, "/%"):
		return "may not contain '/' or '%'"
	}
	return ""
}

// configMapKey returns why k is not a valid key of a config map or secret.
func configMapKey(k string) string {
	switch {
	case len(k) > 253:
		return "must be no more than 253 characters"
	case !configMapKeyRe.MatchString(k):
		return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
	case k == "." || k == "..":
		return "must not be '" + k + "'"
	case strings.HasPrefix(k, ".."):
		return "must not start with '..'"
	}
	return ""
}

// envVarName returns why s is not a valid environment variable name:
// printable ASCII other than '=', as Kubernetes accepts since 1.32.
func envVarName(s string) string {
	if s == "" {
		return "environment variable name must not be empty"
	}
	for _, c := range s {
		if c < ' ' || c > '~' || c == '=' {
			return "a valid environment variable name must consist only of printable ASCII characters other than '='"
		}
	}
	return ""
}

// nameRules say how each kind's names are checked; the default is a DNS
// subdomain.
var nameRules = map[string]func(string) string{
	"Namespace":          dnsLabel,
	"Service":            dns1035,
	"StatefulSet":        dnsLabel,
	"Role":               pathSegment,
	"ClusterRole":        pathSegment,
	"RoleBinding":        pathSegment,
	"ClusterRoleBinding": pathSegment,
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
			e.invalid("metadata.name", m.Name, why)
		}
	}
	if r.Namespaced {
		if m.Namespace == "" {
			e.required("metadata.namespace")
		} else if why := dnsLabel(m.Namespace); why != "" {
			e.invalid("metadata.namespace", m.Namespace, why)
		}
	} else if m.Namespace != "" {
		e.forbidden("metadata.namespace", "not allowed on this type")
	}
	validateLabels(&e, "metadata.labels", m.Labels)
	validateAnnotations(&e, "metadata.annotations", m.Annotations)
	for i, f := range m.Finalizers {
		if f == "" {
			e.required(idx("metadata.finalizers", i))
		} else if why := qualifiedName(f); why != "" {
			e.invalid(idx("metadata.finalizers", i), f, why)
		}
	}
	for i, o := range m.OwnerReferences {
		p := idx("metadata.ownerReferences", i)
		if o.APIVersion == "" {
			e.invalid(p+".apiVersion", o.APIVersion, "version must not be empty")
		}
		if o.Kind == "" {
			e.invalid(p+".kind", o.Kind, "kind must not be empty")
		}
		if o.Name == "" {
			e.invalid(p+".name", o.Name, "name must not be empty")
		}
		if o.UID == "" {
			e.invalid(p+".uid", o.UID, "uid must not be empty")
		}
	}
	controllers := 0
	for _, o := range m.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			controllers++
		}
	}
	if controllers > 1 {
		e.invalid("metadata.ownerReferences", "", "Only one reference can have Controller set to true")
	}
	return e.list
}

// qualifiedName returns why k is not a valid label key or qualified name
// ("" if it is).
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
		return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
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
		return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validateLabels(e *errs, path string, labels map[string]string) {
	for _, k := range sortedKeys(labels) {
		if why := qualifiedName(k); why != "" {
			e.invalid(path, k, why)
		}
		if why := labelValue(labels[k]); why != "" {
			e.invalid(key(path, k), labels[k], why)
		}
	}
}

// totalAnnotationSize is the most the annotations of one object may hold.
const totalAnnotationSize = 256 << 10

func validateAnnotations(e *errs, path string, a map[string]string) {
	size := 0
	for _, k := range sortedKeys(a) {
		if why := qualifiedName(strings.ToLower(k)); why != "" {
			e.invalid(path, k, why)
		}
		size += len(k) + len(a[k])
	}
	if size > totalAnnotationSize {
		e.add(path, "", fmt.Sprintf("Too long: may not be more than %d bytes", totalAnnotationSize))
	}
}

// validateLabelSelector checks a stored label selector's syntax as
// Kubernetes' ValidateLabelSelector does, as every kind that holds one
// does: valid label keys and values in matchLabels and in every
// expression, a known operator, values for In and NotIn and none for
// Exists and DoesNotExist. It reports whether the selector is valid (nil
// is).
func validateLabelSelector(e *errs, path string, s *api.LabelSelector) bool {
	if s == nil {
		return true
	}
	n := len(e.list)
	validateLabels(e, path+".matchLabels", s.MatchLabels)
	for i, r := range s.MatchExpressions {
		p := idx(path+".matchExpressions", i)
		if why := qualifiedName(r.Key); why != "" {
			e.invalid(p+".key", r.Key, why)
		}
		switch r.Operator {
		case api.LabelSelectorOpIn, api.LabelSelectorOpNotIn:
			if len(r.Values) == 0 {
				e.required(p+".values", "must be specified when `operator` is 'In' or 'NotIn'")
			}
		case api.LabelSelectorOpExists, api.LabelSelectorOpDoesNotExist:
			if len(r.Values) > 0 {
				e.forbidden(p+".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
			}
		default:
			e.notSupported(p+".operator", r.Operator, api.LabelSelectorOpIn, api.LabelSelectorOpNotIn, api.LabelSelectorOpExists, api.LabelSelectorOpDoesNotExist)
		}
		for j, v := range r.Values {
			if why := labelValue(v); why != "" {
				e.invalid(idx(p+".values", j), v, why)
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
		return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
	case strings.Contains(s, "--"):
		return "must not contain consecutive hyphens"
	case !portNameLetters.MatchString(s):
		return "must contain at least one letter (a-z)"
	}
	return ""
}

func validatePort(e *errs, path string, p int32, allowZero bool) {
	if p == 0 && allowZero {
		return
	}
	if p < 1 || p > 65535 {
		e.invalid(path, p, "must be between 1 and 65535, inclusive")
	}
}

func validateIntOrStringPort(e *errs, path string, p api.IntOrString) {
	if p.IsString {
		if why := portName(p.StrVal); why != "" {
			e.invalid(path, p.StrVal, why)
		}
		return
	}
	validatePort(e, path, p.IntVal, false)
}

func validateProtocol(e *errs, path string, proto api.Protocol) {
	oneOf(e, path, proto, api.ProtocolSCTP, api.ProtocolTCP, api.ProtocolUDP)
}

func validateIP(e *errs, path, ip string) {
	if _, err := netip.ParseAddr(ip); err != nil {
		e.invalid(path, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
	}
}

func validateCIDR(e *errs, path, cidr string) {
	if _, err := netip.ParsePrefix(cidr); err != nil {
		e.invalid(path, cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
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

// validateResourceName checks a resource name: a standard one (cpu) or a
// qualified name (example.com/gpu, requests.cpu).
func validateResourceName(e *errs, path string, n api.ResourceName) {
	if n == "" {
		e.required(path)
		return
	}
	if why := qualifiedName(string(n)); why != "" {
		e.invalid(path, n, why)
	}
}

func validateResourceList(e *errs, path string, rl api.ResourceList) {
	for _, n := range sortedNames(rl) {
		validateResourceName(e, key(path, string(n)), n)
		if q := rl[n]; q.Sign() < 0 {
			e.invalid(key(path, string(n)), q.String(), "must be greater than or equal to 0")
		}
	}
}

func validateNonNegative(e *errs, path string, v int64) {
	if v < 0 {
		e.invalid(path, v, "must be greater than or equal to 0")
	}
}

func validatePositive(e *errs, path string, v int64) {
	if v <= 0 {
		e.invalid(path, v, "must be greater than zero")
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
	n, err := strconv.Atoi(p)
	if !ok || err != nil || strconv.Itoa(n) != p || n < 0 {
		e.invalid(path, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")
		return
	}
	if capAt100 && n > 100 {
		e.invalid(path, v.StrVal, "must not be greater than 100%")
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
