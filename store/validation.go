package store

import (
	"fmt"
	"strings"
)

// Limits from Kubernetes' object metadata validation.
const (
	// MaxNameLength is the longest object name (a DNS-1123 subdomain).
	MaxNameLength = 253
	// MaxNamespaceLength is the longest namespace name (a DNS-1123 label).
	MaxNamespaceLength = 63
	// MaxLabelValueLength is the longest label value, and the longest name
	// part of a label key.
	MaxLabelValueLength = 63
	// MaxAnnotationsBytes is the largest total size of annotation keys and
	// values.
	MaxAnnotationsBytes = 256 * 1024
)

func isAlnumLower(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isAlnumLower(c) || c >= 'A' && c <= 'Z' }

// dns1123Label reports why s is not a DNS-1123 label, or "".
func dns1123Label(s string, max int) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > max {
		return fmt.Sprintf("must be no more than %d characters", max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnumLower(c) && c != '-' {
			return "must consist of lower case alphanumeric characters or '-'"
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return "must start and end with an alphanumeric character"
	}
	return ""
}

// dns1123Subdomain reports why s is not a DNS-1123 subdomain, or "".
func dns1123Subdomain(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > MaxNameLength {
		return fmt.Sprintf("must be no more than %d characters", MaxNameLength)
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
		}
		if r := dns1123Label(part, MaxNameLength); r != "" {
			return "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
		}
	}
	return ""
}

// qualifiedNamePart reports why s is not the name part of a qualified name
// (label key, finalizer, annotation key), or "".
func qualifiedNamePart(s string) string {
	if s == "" {
		return "name part must not be empty"
	}
	if len(s) > MaxLabelValueLength {
		return fmt.Sprintf("name part must be no more than %d characters", MaxLabelValueLength)
	}
	if r := alnumDashDotUnderscore(s); r != "" {
		return "name part " + r
	}
	return ""
}

func alnumDashDotUnderscore(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return "must consist of alphanumeric characters, '-', '_' or '.'"
		}
	}
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return "must start and end with an alphanumeric character"
	}
	return ""
}

// qualifiedName reports why s is not a qualified name ("[prefix/]name" with
// prefix a DNS-1123 subdomain), or "".
func qualifiedName(s string) string {
	name := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		prefix := s[:i]
		name = s[i+1:]
		if prefix == "" {
			return "prefix part must not be empty"
		}
		if r := dns1123Subdomain(prefix); r != "" {
			return "prefix part " + r
		}
		if strings.IndexByte(name, '/') >= 0 {
			return "must contain at most one '/'"
		}
	}
	return qualifiedNamePart(name)
}

// MaxGeneratedNameLength is the longest prefix GenerateName keeps: with its
// five random characters a generated name has at most 63 characters, so
// that it is valid for every kind (DNS-1123 and DNS-1035 labels included),
// as Kubernetes' name generator does.
const MaxGeneratedNameLength = 63 - generatedSuffixLength

const generatedSuffixLength = 5

// GenerateName returns a name for an object created with only
// metadata.generateName: the prefix, cut to MaxGeneratedNameLength bytes,
// followed by five random lowercase letters and digits. Validate the result
// with the kind's own name rules.
func GenerateName(prefix string) string {
	if len(prefix) > MaxGeneratedNameLength {
		prefix = prefix[:MaxGeneratedNameLength]
	}
	return prefix + randomSuffix(generatedSuffixLength)
}

// MaskTrailingDash turns a generateName prefix into a name that name rules
// can check: a trailing '-' (which the generated suffix follows) is
// replaced by a letter. Other prefixes are returned as they are.
func MaskTrailingDash(prefix string) string {
	if len(prefix) > 1 && strings.HasSuffix(prefix, "-") {
		return prefix[:len(prefix)-1] + "a"
	}
	return prefix
}

// ValidateName checks an object name: a DNS-1123 subdomain of at most 253
// characters. The error is a *FieldError for "metadata.name".
func ValidateName(name string) error {
	if r := dns1123Subdomain(name); r != "" {
		return &FieldError{Field: "metadata.name", Value: name, Reason: r}
	}
	return nil
}

// ValidateNamespace checks a namespace name: a DNS-1123 label of at most 63
// characters. The error is a *FieldError for "metadata.namespace".
func ValidateNamespace(ns string) error {
	if r := dns1123Label(ns, MaxNamespaceLength); r != "" {
		return &FieldError{Field: "metadata.namespace", Value: ns, Reason: r}
	}
	return nil
}

// ValidateLabelKey checks a label key: an optional DNS-1123 subdomain prefix
// and '/', then a name of at most 63 alphanumeric characters, '-', '_' or
// '.', starting and ending with an alphanumeric character.
func ValidateLabelKey(key string) error {
	if r := qualifiedName(key); r != "" {
		return &FieldError{Field: "metadata.labels", Value: key, Reason: r}
	}
	return nil
}

// ValidateLabelValue checks a label value: empty, or at most 63
// alphanumeric characters, '-', '_' or '.', starting and ending with an
// alphanumeric character.
func ValidateLabelValue(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > MaxLabelValueLength {
		return &FieldError{Field: "metadata.labels", Value: v, Reason: fmt.Sprintf("must be no more than %d characters", MaxLabelValueLength)}
	}
	if r := alnumDashDotUnderscore(v); r != "" {
		return &FieldError{Field: "metadata.labels", Value: v, Reason: r}
	}
	return nil
}

// pathSegmentName reports why s is not a valid path segment name, or "".
func pathSegmentName(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case s == "." || s == "..":
		return "may not be '.' or '..'"
	case strings.ContainsAny(s, "/%"):
		return "may not contain '/' or '%'"
	case len(s) > MaxNameLength:
		return fmt.Sprintf("must be no more than %d characters", MaxNameLength)
	}
	return ""
}

// validateMeta is ValidateObjectMeta with the store's name rule.
func (s *Store[T]) validateMeta(m *ObjectMeta) FieldErrors {
	errs := ValidateObjectMeta(m, s.res.Namespaced)
	if !s.pathNames || m.Name == "" {
		return errs
	}
	out := errs[:0]
	for _, e := range errs {
		if e.Field == "metadata.name" {
			continue
		}
		out = append(out, e)
	}
	if r := pathSegmentName(m.Name); r != "" {
		out = append(out, &FieldError{Field: "metadata.name", Value: m.Name, Reason: r})
	}
	return out
}

// ValidateObjectMeta checks the fields of m that a client may set: name
// (or generateName, a DNS-1123 subdomain prefix of any length, see
// GenerateName), namespace (required iff namespaced), labels,
// annotations, owner references and finalizers. It returns every problem
// found, each naming its field.
func ValidateObjectMeta(m *ObjectMeta, namespaced bool) FieldErrors {
	var errs FieldErrors
	add := func(field, value, reason string) {
		errs = append(errs, &FieldError{Field: field, Value: value, Reason: reason})
	}
	if m.GenerateName != "" {
		// A prefix: a trailing '-' is fine, the generated part follows it.
		if r := dns1123Subdomain(MaskTrailingDash(m.GenerateName)); r != "" {
			add("metadata.generateName", m.GenerateName, r)
		}
	}
	switch {
	case m.Name == "" && m.GenerateName == "":
		add("metadata.name", "", "name or generateName is required")
	case m.Name != "":
		if r := dns1123Subdomain(m.Name); r != "" {
			add("metadata.name", m.Name, r)
		}
	}
	switch {
	case namespaced && m.Namespace == "":
		add("metadata.namespace", "", "namespace is required for a namespaced resource")
	case !namespaced && m.Namespace != "":
		add("metadata.namespace", m.Namespace, "must be empty for a cluster-scoped resource")
	case namespaced:
		if r := dns1123Label(m.Namespace, MaxNamespaceLength); r != "" {
			add("metadata.namespace", m.Namespace, r)
		}
	}
	for k, v := range m.Labels {
		if r := qualifiedName(k); r != "" {
			add("metadata.labels", k, "key "+r)
		}
		if err := ValidateLabelValue(v); err != nil {
			add("metadata.labels["+k+"]", v, reason(err))
		}
	}
	total := 0
	for k, v := range m.Annotations {
		if r := qualifiedName(strings.ToLower(k)); r != "" {
			add("metadata.annotations", k, "key "+r)
		}
		total += len(k) + len(v)
	}
	if total > MaxAnnotationsBytes {
		add("metadata.annotations", "", fmt.Sprintf("total size %d bytes exceeds %d", total, MaxAnnotationsBytes))
	}
	controllers := 0
	for i, ref := range m.OwnerReferences {
		f := fmt.Sprintf("metadata.ownerReferences[%d]", i)
		if ref.APIVersion == "" {
			add(f+".apiVersion", "", "must not be empty")
		}
		if ref.Kind == "" {
			add(f+".kind", "", "must not be empty")
		}
		if ref.Name == "" {
			add(f+".name", "", "must not be empty")
		}
		if ref.UID == "" {
			add(f+".uid", "", "must not be empty")
		}
		if ref.Controller != nil && *ref.Controller {
			controllers++
		}
	}
	if controllers > 1 {
		add("metadata.ownerReferences", "", "at most one reference may be marked controller")
	}
	seen := make(map[string]bool, len(m.Finalizers))
	for i, f := range m.Finalizers {
		field := fmt.Sprintf("metadata.finalizers[%d]", i)
		if r := qualifiedName(f); r != "" {
			add(field, f, r)
		}
		if seen[f] {
			add(field, f, "duplicate finalizer")
		}
		seen[f] = true
	}
	return errs
}
