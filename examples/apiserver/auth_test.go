package apiserver

import (
	"strings"
	"testing"
)

func TestParseTokens(t *testing.T) {
	toks, err := ParseTokens(strings.NewReader("# comment\nt1,alice,u1,\"a,b\"\nt2,bob,u2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if u := toks["t1"]; u == nil || u.Name != "alice" || u.UID != "u1" || len(u.Groups) != 2 || u.Groups[1] != "b" {
		t.Fatalf("t1: %+v", toks["t1"])
	}
	if u := toks["t2"]; u == nil || u.Name != "bob" || len(u.Groups) != 0 {
		t.Fatalf("t2: %+v", toks["t2"])
	}
	for _, bad := range []struct{ in, want string }{
		{"t1,alice\n", "line 1"},
		{"t1,alice,u,g,extra\n", "got 5 fields"},
		{",alice,u\n", "must not be empty"},
		{"t1,a,u\nt1,b,u\n", "line 2: duplicate token"},
		{"t1,\"a,u\n", "token file"},
	} {
		if _, err := ParseTokens(strings.NewReader(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseTokens(%q) = %v, want an error mentioning %q", bad.in, err, bad.want)
		}
	}
}

func TestParseRulesAndAuthorize(t *testing.T) {
	rules, err := ParseRules(strings.NewReader(`[
		{"user":"alice","verbs":["get","list"],"resources":["pods","pods/status"],"namespaces":["dev"]},
		{"group":"ops","verbs":["*"],"resources":["nodes"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	alice := &User{Name: "alice"}
	ops := &User{Name: "carol", Groups: []string{"ops"}}
	for _, tc := range []struct {
		u                  *User
		verb, resource, ns string
		want               bool
	}{
		{alice, "get", "pods", "dev", true},
		{alice, "get", "pods/status", "dev", true},
		{alice, "delete", "pods", "dev", false},
		{alice, "get", "pods", "prod", false},
		{alice, "get", "nodes", "", false},
		{ops, "delete", "nodes", "", true},
		{ops, "get", "pods", "dev", false},
	} {
		if got := rules.Allows(tc.u, tc.verb, tc.resource, tc.ns); got != tc.want {
			t.Errorf("Allows(%s %s %s in %q) = %v, want %v", tc.u.Name, tc.verb, tc.resource, tc.ns, got, tc.want)
		}
	}
	for _, bad := range []struct{ in, want string }{
		{`[{"verbs":["get"],"resources":["pods"]}]`, "rule 0: exactly one of user and group"},
		{`[{"user":"a","group":"b","verbs":["get"],"resources":["pods"]}]`, "exactly one"},
		{`[{"user":"a","resources":["pods"]}]`, "verbs must not be empty"},
		{`[{"user":"a","verbs":["get"]}]`, "resources must not be empty"},
		{`[{"user":"a","verbs":["get"],"resources":["x"],"namespace":"typo"}]`, "unknown field"},
		{`{`, "rules file"},
	} {
		if _, err := ParseRules(strings.NewReader(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseRules(%s) = %v, want an error mentioning %q", bad.in, err, bad.want)
		}
	}
}

func FuzzParseTokens(f *testing.F) {
	f.Add("t1,alice,u1,\"a,b\"\n")
	f.Add("# x\n\n t,u,i\n")
	f.Add("\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		toks, err := ParseTokens(strings.NewReader(in))
		if err != nil {
			return
		}
		for tok, u := range toks {
			if tok == "" || u.Name == "" {
				t.Fatalf("accepted an empty token or user: %q -> %+v", tok, u)
			}
		}
	})
}

func FuzzParseRules(f *testing.F) {
	f.Add(`[{"user":"a","verbs":["get"],"resources":["pods"]}]`)
	f.Add(`[{"group":"g","verbs":["*"],"resources":["*"],"namespaces":[""]}]`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		rules, err := ParseRules(strings.NewReader(in))
		if err != nil {
			return
		}
		for i, r := range rules {
			if (r.User == "") == (r.Group == "") || len(r.Verbs) == 0 || len(r.Resources) == 0 {
				t.Fatalf("accepted an invalid rule %d: %+v", i, r)
			}
		}
	})
}
