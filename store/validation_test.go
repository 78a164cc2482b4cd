package store

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	good := []string{"a", "a-b", "a.b", "0", "a1.b2-c3", strings.Repeat("a", 63) + "." + strings.Repeat("b", 189)}
	bad := []string{"", "A", "a_b", "-a", "a-", ".a", "a.", "a..b", "a b", strings.Repeat("a", 254), "a.-b"}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q): %v", n, err)
		}
	}
	for _, n := range bad {
		err := ValidateName(n)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "metadata.name" || !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateName(%q) = %v, want a metadata.name FieldError", n, err)
		}
	}
}

func TestValidateNamespace(t *testing.T) {
	for _, n := range []string{"default", "kube-system", "a", strings.Repeat("x", 63)} {
		if err := ValidateNamespace(n); err != nil {
			t.Errorf("ValidateNamespace(%q): %v", n, err)
		}
	}
	for _, n := range []string{"", "a.b", "A", strings.Repeat("x", 64), "-a"} {
		if err := ValidateNamespace(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateNamespace(%q) = %v, want ErrInvalid", n, err)
		}
	}
}

func TestValidateLabels(t *testing.T) {
	goodKeys := []string{"a", "A_b.c-d", "example.com/x", "a.b.c/Y_z", strings.Repeat("k", 63)}
	badKeys := []string{"", "/a", "a/", "-a", "a-", "Example.com/a", "a/b/c", strings.Repeat("k", 64), "a b", "example.com/" + strings.Repeat("k", 64)}
	for _, k := range goodKeys {
		if err := ValidateLabelKey(k); err != nil {
			t.Errorf("ValidateLabelKey(%q): %v", k, err)
		}
	}
	for _, k := range badKeys {
		if err := ValidateLabelKey(k); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateLabelKey(%q) = %v, want ErrInvalid", k, err)
		}
	}
	for _, v := range []string{"", "a", "A-b_c.d", strings.Repeat("v", 63)} {
		if err := ValidateLabelValue(v); err != nil {
			t.Errorf("ValidateLabelValue(%q): %v", v, err)
		}
	}
	for _, v := range []string{"-", "a-", "a b", "a/b", strings.Repeat("v", 64)} {
		if err := ValidateLabelValue(v); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateLabelValue(%q) = %v, want ErrInvalid", v, err)
		}
	}
}

func TestValidateObjectMeta(t *testing.T) {
	yes := true
	m := &ObjectMeta{
		Name:        "BAD",
		Labels:      map[string]string{"ok": "-bad"},
		Annotations: map[string]string{"x/y/z": "v"},
		OwnerReferences: []OwnerReference{
			{APIVersion: "v1", Kind: "A", Name: "a", UID: "1", Controller: &yes},
			{Kind: "B", Name: "b", UID: "2", Controller: &yes},
		},
		Finalizers: []string{"example.com/f", "example.com/f"},
	}
	errs := ValidateObjectMeta(m, true)
	fields := map[string]bool{}
	for _, e := range errs {
		fields[e.Field] = true
	}
	for _, f := range []string{"metadata.name", "metadata.namespace", "metadata.labels[ok]", "metadata.annotations", "metadata.ownerReferences[1].apiVersion", "metadata.ownerReferences", "metadata.finalizers[1]"} {
		if !fields[f] {
			t.Errorf("no error for %s in %v", f, errs)
		}
	}
	if !errors.Is(errs, ErrInvalid) || !strings.Contains(errs.Error(), "metadata.name") {
		t.Errorf("FieldErrors %v: want ErrInvalid naming metadata.name", errs)
	}
	if errs := ValidateObjectMeta(&ObjectMeta{Name: "ok", Namespace: "ns"}, true); errs.ErrOrNil() != nil {
		t.Errorf("valid meta: %v", errs)
	}
	if errs := ValidateObjectMeta(&ObjectMeta{Name: "ok", Namespace: "ns"}, false); errs.ErrOrNil() == nil {
		t.Error("a namespace on a cluster-scoped object was accepted")
	}
	// generateName is a prefix of any length (GenerateName cuts it); it
	// must be a subdomain once its trailing '-' is masked.
	for _, g := range []string{strings.Repeat("a", 249) + "-", "web-", "a.b", "x"} {
		if errs := ValidateObjectMeta(&ObjectMeta{GenerateName: g, Namespace: "ns"}, true); errs.ErrOrNil() != nil {
			t.Errorf("generateName %q: %v", g, errs)
		}
	}
	for _, g := range []string{"Web-", "a..b-", "-", "a_b-", strings.Repeat("a", 254)} {
		if errs := ValidateObjectMeta(&ObjectMeta{GenerateName: g, Namespace: "ns"}, true); errs.ErrOrNil() == nil || errs[0].Field != "metadata.generateName" {
			t.Errorf("generateName %q: %v, want an error for metadata.generateName", g, errs)
		}
	}
	// A name given with it is checked too.
	if errs := ValidateObjectMeta(&ObjectMeta{Name: "Bad", GenerateName: "ok-", Namespace: "ns"}, true); len(errs) != 1 || errs[0].Field != "metadata.name" {
		t.Errorf("bad name with generateName: %v", errs)
	}
}

// TestGenerateName: the prefix is cut so the name has at most 63
// characters, as Kubernetes' name generator does (issue 12 case 7).
func TestGenerateName(t *testing.T) {
	for _, c := range []struct {
		prefix  string
		wantLen int
	}{{"web-", 9}, {strings.Repeat("a", 58), 63}, {strings.Repeat("a", 59) + "-", 63}, {strings.Repeat("p", 250), 63}, {"", 5}} {
		n := GenerateName(c.prefix)
		keep := min(len(c.prefix), MaxGeneratedNameLength)
		if len(n) != c.wantLen || !strings.HasPrefix(n, c.prefix[:keep]) {
			t.Errorf("GenerateName(%d chars) = %q (%d chars), want %d chars starting with the prefix", len(c.prefix), n, len(n), c.wantLen)
		}
		if dns1123Label(n[keep:], 63) != "" {
			t.Errorf("suffix %q is not lowercase alphanumeric", n[keep:])
		}
	}
	if GenerateName("a-") == GenerateName("a-") {
		t.Error("two generated names are equal") // 27^5 possibilities: a real collision is a bug
	}
	big := &ObjectMeta{Name: "ok", Annotations: map[string]string{"a": strings.Repeat("x", MaxAnnotationsBytes)}}
	if errs := ValidateObjectMeta(big, false); errs.ErrOrNil() == nil {
		t.Error("oversized annotations were accepted")
	}
}
