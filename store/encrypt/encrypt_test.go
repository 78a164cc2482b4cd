package encrypt_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/encrypt"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

func key(b byte, n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, n)) }

func cfg(t *testing.T, yaml string) *encrypt.Configuration {
	t.Helper()
	c, err := encrypt.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func aesgcmThenIdentity(names ...string) string {
	s := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n"
	for _, n := range names {
		s += fmt.Sprintf("      - name: %s\n        secret: %s\n", n, key(n[len(n)-1], 32))
	}
	return s + "  - identity: {}\n"
}

// The contract suite holds for a backend that encrypts every value.
func TestBackendContract(t *testing.T) {
	for _, p := range []string{"aesgcm", "secretbox"} {
		t.Run(p, func(t *testing.T) {
			c := cfg(t, fmt.Sprintf("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: ['*.*']\n  providers:\n  - %s:\n      keys: [{name: k1, secret: %s}]\n", p, key(7, 32)))
			storetest.RunBackend(t, func(t *testing.T) store.Backend {
				e, err := encrypt.New(memory.New(), c, "")
				if err != nil {
					t.Fatal(err)
				}
				return e
			})
		})
	}
}

func TestNoPlaintextAndRotation(t *testing.T) {
	ctx := context.Background()
	raw := memory.New()
	old, err := encrypt.New(raw, cfg(t, aesgcmThenIdentity("k1")), "/p")
	if err != nil {
		t.Fatal(err)
	}
	// A plain value written before encryption was configured.
	if _, err := raw.Create(ctx, "/p/secrets/ns/plain", []byte("PLAIN-VALUE")); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Create(ctx, "/p/secrets/ns/a", []byte("SECRET-A")); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Create(ctx, "/p/configmaps/ns/c", []byte("CONFIG")); err != nil {
		t.Fatal(err)
	}
	kv, _ := raw.Get(ctx, "/p/secrets/ns/a")
	if bytes.Contains(kv.Value, []byte("SECRET-A")) || !bytes.HasPrefix(kv.Value, []byte("k8s:enc:aesgcm:v1:k1:")) {
		t.Fatalf("raw value %q: want k8s:enc:aesgcm:v1:k1: and no plain text", kv.Value)
	}
	if kv, _ := raw.Get(ctx, "/p/configmaps/ns/c"); string(kv.Value) != "CONFIG" {
		t.Fatalf("configmap stored as %q, want it untouched", kv.Value)
	}

	// Rotation: k2 is added first and writes; k1 still reads.
	rotated, err := encrypt.New(raw, cfg(t, aesgcmThenIdentity("k2", "k1")), "/p")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"/p/secrets/ns/a": "SECRET-A", "/p/secrets/ns/plain": "PLAIN-VALUE"} {
		kv, err := rotated.Get(ctx, k)
		if err != nil || string(kv.Value) != want {
			t.Fatalf("Get %s = %q, %v; want %q", k, kv.Value, err, want)
		}
	}
	if _, err := rotated.Create(ctx, "/p/secrets/ns/b", []byte("SECRET-B")); err != nil {
		t.Fatal(err)
	}
	kv, _ = raw.Get(ctx, "/p/secrets/ns/b")
	if !bytes.HasPrefix(kv.Value, []byte("k8s:enc:aesgcm:v1:k2:")) {
		t.Fatalf("new write stored as %q, want key k2", kv.Value[:20])
	}
	res, err := rotated.Range(ctx, "/p/secrets/", store.RangeOptions{})
	if err != nil || len(res.KVs) != 3 {
		t.Fatalf("Range = %d, %v", len(res.KVs), err)
	}

	// Without k2 (the old configuration), the new value is a clear error
	// that names the key and never the value.
	_, err = old.Get(ctx, "/p/secrets/ns/b")
	if !errors.Is(err, encrypt.ErrDecrypt) || !strings.Contains(err.Error(), "k8s:enc:aesgcm:v1:k2:") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("Get with the old keys: %v", err)
	}
	// Without identity, plain values are refused.
	strict, _ := encrypt.New(raw, cfg(t, strings.TrimSuffix(aesgcmThenIdentity("k1"), "  - identity: {}\n")), "/p")
	if _, err := strict.Get(ctx, "/p/secrets/ns/plain"); !errors.Is(err, encrypt.ErrDecrypt) {
		t.Fatalf("plain value without identity: %v", err)
	}
}

func TestTamperedValueRefused(t *testing.T) {
	ctx := context.Background()
	raw := memory.New()
	e, _ := encrypt.New(raw, cfg(t, aesgcmThenIdentity("k1")), "/p")
	if _, err := e.Create(ctx, "/p/secrets/ns/a", []byte("SECRET-A")); err != nil {
		t.Fatal(err)
	}
	kv, _ := raw.Get(ctx, "/p/secrets/ns/a")
	// Moving a ciphertext to another key fails: the key is authenticated.
	if _, err := raw.Create(ctx, "/p/secrets/ns/b", kv.Value); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Get(ctx, "/p/secrets/ns/b"); !errors.Is(err, encrypt.ErrDecrypt) {
		t.Fatalf("moved ciphertext: %v", err)
	}
	bad := append([]byte(nil), kv.Value...)
	bad[len(bad)-1] ^= 1
	if _, err := raw.Update(ctx, "/p/secrets/ns/a", bad, kv.ModRevision); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Get(ctx, "/p/secrets/ns/a"); !errors.Is(err, encrypt.ErrDecrypt) {
		t.Fatalf("flipped bit: %v", err)
	}
}

func TestWatchDecrypts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, _ := encrypt.New(memory.New(), cfg(t, aesgcmThenIdentity("k1")), "/p")
	w, err := e.Watch(ctx, "/p/secrets/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	rev, _ := e.Create(ctx, "/p/secrets/ns/a", []byte("V1"))
	if _, err := e.Update(ctx, "/p/secrets/ns/a", []byte("V2"), rev); err != nil {
		t.Fatal(err)
	}
	want := []string{"V1", "V2"}
	for i := range want {
		ev := <-w.Events()
		if string(ev.Object.Value) != want[i] {
			t.Fatalf("event %d value %q, want %q", i, ev.Object.Value, want[i])
		}
		if i == 1 && string(ev.Object.PrevValue) != "V1" {
			t.Fatalf("event prev value %q", ev.Object.PrevValue)
		}
	}
}

func TestBadConfigurations(t *testing.T) {
	head := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
	cases := map[string]struct{ yaml, want string }{
		"empty":          {"", "empty"},
		"kind":           {"apiVersion: v1\nkind: Foo\nresources: []\n", "EncryptionConfiguration"},
		"unknown field":  {head + "resources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n  extra: 1\n", "extra"},
		"short key":      {head + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: k, secret: " + key(1, 10) + "}]}\n", "10 bytes"},
		"not base64":     {head + "resources:\n- resources: [secrets]\n  providers:\n  - secretbox: {keys: [{name: k, secret: '!!!'}]}\n", "base64"},
		"two kinds":      {head + "resources:\n- resources: [secrets]\n  providers:\n  - {identity: {}, secretbox: {keys: [{name: k, secret: " + key(1, 32) + "}]}}\n", "exactly one"},
		"no keys":        {head + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: []}\n", "keys: must not be empty"},
		"dup resource":   {head + "resources:\n- resources: [secrets, secrets.]\n  providers: [{identity: {}}]\n", "twice"},
		"dup key name":   {head + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: k, secret: " + key(1, 32) + "}, {name: k, secret: " + key(2, 32) + "}]}\n", "used twice"},
		"group wildcard": {head + "resources:\n- resources: ['*.apps']\n  providers: [{identity: {}}]\n", "*.apps"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := encrypt.Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
