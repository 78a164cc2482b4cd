package api

import (
	"fmt"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
)

// ErrFieldSelector is wrapped by field selector errors; it wraps
// store.ErrInvalid.
var ErrFieldSelector = fmt.Errorf("%w: field selector", store.ErrInvalid)

// FieldRequirement is one term of a field selector: Field Op Value.
type FieldRequirement struct {
	// Field is a field label such as "spec.nodeName".
	Field string
	// Op is "=" (also written "==") or "!=".
	Op string
	// Value is compared with the field's text value; it may be empty.
	Value string
}

// FieldSelector is a parsed field selector: every requirement must hold.
// The zero value selects everything.
type FieldSelector []FieldRequirement

// ParseFieldSelector parses the Kubernetes field selector syntax:
// comma-separated "field=value", "field==value" or "field!=value" terms,
// where a value escapes ',', '=', '!' and '\' with a backslash. The empty
// string selects everything. Errors wrap ErrFieldSelector and name the
// term and the problem.
func ParseFieldSelector(s string) (FieldSelector, error) {
	if s == "" {
		return nil, nil
	}
	var sel FieldSelector
	for i, term := range splitTerms(s) {
		r, err := parseTerm(term)
		if err != nil {
			return nil, fmt.Errorf("%w: term %d %q: %v", ErrFieldSelector, i, term, err)
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// splitTerms splits on commas not preceded by a backslash escape.
func splitTerms(s string) []string {
	var terms []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',':
			terms = append(terms, s[start:i])
			start = i + 1
		}
	}
	return append(terms, s[start:])
}

func parseTerm(t string) (FieldRequirement, error) {
	for i := 0; i < len(t); i++ {
		var op string
		switch {
		case strings.HasPrefix(t[i:], "!="):
			op = "!="
		case strings.HasPrefix(t[i:], "=="):
			op = "=="
		case t[i] == '=':
			op = "="
		default:
			continue
		}
		field := t[:i]
		if field == "" {
			return FieldRequirement{}, fmt.Errorf("missing field name before %q", op)
		}
		if strings.ContainsAny(field, `\ `) {
			return FieldRequirement{}, fmt.Errorf("field name %q may not contain spaces or backslashes", field)
		}
		val, err := unescape(t[i+len(op):])
		if err != nil {
			return FieldRequirement{}, err
		}
		if op == "==" {
			op = "="
		}
		return FieldRequirement{Field: field, Op: op, Value: val}, nil
	}
	return FieldRequirement{}, fmt.Errorf("expected an operator (=, == or !=)")
}

func unescape(v string) (string, error) {
	if !strings.ContainsAny(v, `\,=!`) {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\\':
			if i+1 >= len(v) {
				return "", fmt.Errorf("value ends with a lone backslash")
			}
			n := v[i+1]
			if n != '\\' && n != ',' && n != '=' && n != '!' {
				return "", fmt.Errorf("invalid escape sequence \\%c (escape only \\ , = !)", n)
			}
			b.WriteByte(n)
			i++
		case '=', '!':
			return "", fmt.Errorf("unescaped %q in value (write \\%c)", c, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func escape(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `=`, `\=`, `!`, `\!`)
	return r.Replace(v)
}

// String returns the canonical text, which ParseFieldSelector accepts.
func (s FieldSelector) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.Field + r.Op + escape(r.Value)
	}
	return strings.Join(parts, ",")
}

// Empty reports whether the selector selects everything.
func (s FieldSelector) Empty() bool { return len(s) == 0 }

// fieldFuncs returns the metadata field labels every kind supports.
func metaFields[T store.Object](namespaced bool) map[string]func(T) string {
	m := map[string]func(T) string{
		"metadata.name": func(o T) string { return o.GetObjectMeta().Name },
	}
	if namespaced {
		m["metadata.namespace"] = func(o T) string { return o.GetObjectMeta().Namespace }
	}
	return m
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func podFields() map[string]func(*Pod) string {
	m := metaFields[*Pod](true)
	m["spec.nodeName"] = func(p *Pod) string { return p.Spec.NodeName }
	m["spec.restartPolicy"] = func(p *Pod) string { return p.Spec.RestartPolicy }
	m["spec.schedulerName"] = func(p *Pod) string { return p.Spec.SchedulerName }
	m["spec.serviceAccountName"] = func(p *Pod) string { return p.Spec.ServiceAccountName }
	m["spec.hostNetwork"] = func(p *Pod) string { return boolText(p.Spec.HostNetwork) }
	m["status.phase"] = func(p *Pod) string { return p.Status.Phase }
	m["status.podIP"] = func(p *Pod) string { return p.Status.PodIP }
	return m
}

func nodeFields() map[string]func(*Node) string {
	m := metaFields[*Node](false)
	m["spec.unschedulable"] = func(n *Node) string { return boolText(n.Spec.Unschedulable) }
	return m
}

func namespaceFields() map[string]func(*Namespace) string {
	m := metaFields[*Namespace](false)
	m["status.phase"] = func(n *Namespace) string { return n.Status.Phase }
	return m
}

func serviceFields() map[string]func(*Service) string {
	m := metaFields[*Service](true)
	m["spec.clusterIP"] = func(s *Service) string { return s.Spec.ClusterIP }
	m["spec.type"] = func(s *Service) string { return s.Spec.Type }
	return m
}

func eventFields() map[string]func(*Event) string {
	m := metaFields[*Event](true)
	m["involvedObject.kind"] = func(e *Event) string { return e.InvolvedObject.Kind }
	m["involvedObject.namespace"] = func(e *Event) string { return e.InvolvedObject.Namespace }
	m["involvedObject.name"] = func(e *Event) string { return e.InvolvedObject.Name }
	m["involvedObject.uid"] = func(e *Event) string { return e.InvolvedObject.UID }
	m["involvedObject.apiVersion"] = func(e *Event) string { return e.InvolvedObject.APIVersion }
	m["involvedObject.resourceVersion"] = func(e *Event) string { return e.InvolvedObject.ResourceVersion }
	m["involvedObject.fieldPath"] = func(e *Event) string { return e.InvolvedObject.FieldPath }
	m["reason"] = func(e *Event) string { return e.Reason }
	m["reportingComponent"] = func(e *Event) string { return e.ReportingController }
	m["source"] = func(e *Event) string { return e.Source.Component }
	m["type"] = func(e *Event) string { return e.Type }
	return m
}

func replicaSetFields() map[string]func(*ReplicaSet) string {
	m := metaFields[*ReplicaSet](true)
	m["status.replicas"] = func(r *ReplicaSet) string { return fmt.Sprint(r.Status.Replicas) }
	return m
}
