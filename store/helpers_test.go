package store

import (
	"context"
	"errors"
	"regexp"
	"testing"
)

type deepObj struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	copied     bool
}

func (d *deepObj) DeepCopy() *deepObj {
	c := *d
	c.copied = true
	return &c
}

type plainObj struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Spec       struct {
		Items []string `json:"items"`
	} `json:"spec"`
}

func TestClone(t *testing.T) {
	d := Clone(&deepObj{ObjectMeta: ObjectMeta{Name: "a"}})
	if !d.copied || d.Name != "a" {
		t.Fatalf("Clone did not use DeepCopy: %+v", d)
	}
	p := &plainObj{ObjectMeta: ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"}}}
	p.Spec.Items = []string{"x"}
	c := Clone(p)
	c.Labels["a"] = "changed"
	c.Spec.Items[0] = "changed"
	if p.Labels["a"] != "b" || p.Spec.Items[0] != "x" {
		t.Fatal("Clone shares maps or slices with the original")
	}
	if Clone[*plainObj](nil) != nil {
		t.Fatal("Clone(nil) is not nil")
	}
}

func TestKeyOf(t *testing.T) {
	if got := KeyOf(&plainObj{ObjectMeta: ObjectMeta{Namespace: "ns", Name: "a"}}); got != "ns/a" {
		t.Errorf("KeyOf namespaced = %q", got)
	}
	if got := KeyOf(&plainObj{ObjectMeta: ObjectMeta{Name: "a"}}); got != "a" {
		t.Errorf("KeyOf cluster-scoped = %q", got)
	}
}

func TestRevisions(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"", 0}, {"0", 0}, {"42", 42}, {"9223372036854775807", 1<<63 - 1}} {
		got, err := ParseRevision(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRevision(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"-1", "abc", "1.5", " 1", "9223372036854775808", "0x10"} {
		if _, err := ParseRevision(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseRevision(%q) error = %v, want ErrInvalid", in, err)
		}
	}
	if FormatRevision(0) != "" || FormatRevision(17) != "17" {
		t.Error("FormatRevision")
	}
}

func TestFences(t *testing.T) {
	ctx := context.Background()
	if FencesFrom(ctx) != nil {
		t.Fatal("fences in a plain context")
	}
	a, b := Fence{Key: "a", CreateRevision: 1}, Fence{Key: "b", CreateRevision: 2}
	c1 := WithFence(ctx, a)
	c2 := WithFence(c1, b)
	if got := FencesFrom(c2); len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("FencesFrom = %v", got)
	}
	if got := FencesFrom(c1); len(got) != 1 {
		t.Fatalf("adding a fence changed the parent context: %v", got)
	}
	if WithFence(ctx) != ctx {
		t.Fatal("WithFence without fences made a new context")
	}
}

func TestNewUIDAndSuffix(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		u := newUID()
		if !re.MatchString(u) || seen[u] {
			t.Fatalf("bad or repeated UID %q", u)
		}
		seen[u] = true
	}
	if s := randomSuffix(5); !regexp.MustCompile(`^[a-z0-9]{5}$`).MatchString(s) {
		t.Fatalf("suffix %q", s)
	}
}

func TestResolveDeleteOptions(t *testing.T) {
	got := ResolveDeleteOptions(WithPreconditionUID("u1"), WithPreconditionResourceVersion("7"))
	if got.UID != "u1" || got.ResourceVersion != "7" {
		t.Fatalf("ResolveDeleteOptions = %+v, want uid u1 and resourceVersion 7", got)
	}
	if got := ResolveDeleteOptions(); got != (DeletePreconditions{}) {
		t.Fatalf("ResolveDeleteOptions() = %+v, want none", got)
	}
}
