package apiserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/encrypt"
)

func encryptionConfig(keys ...string) string {
	s := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n"
	for _, k := range keys {
		s += "      - name: " + k + "\n        secret: " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte(k[len(k)-1:]), 32)) + "\n"
	}
	return s + "  - identity: {}\n"
}

// Secrets are encrypted in etcd; a restart with the same configuration
// reads them back, and one with a rotated key list too.
func TestSecretsEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "enc.yaml")
	os.WriteFile(cfgFile, []byte(encryptionConfig("k1")), 0o600)
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off", EncryptionConfigFile: cfgFile}
	s, stop := runServer(t, cfg)
	ts := &testServer{Server: s, dir: dir}
	admin := ts.httpClient(t, true)
	const secret = `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"stringData":{"password":"HUNTER2-PLAIN"}}`
	if code, body := ts.raw(t, admin, "POST", "/api/v1/namespaces/default/secrets", "", secret); code != 201 {
		t.Fatalf("create secret: %d %s", code, body)
	}
	if code, body := ts.raw(t, admin, "POST", "/api/v1/namespaces/default/configmaps", "", `{"metadata":{"name":"cm"},"data":{"k":"CM-PLAIN"}}`); code != 201 {
		t.Fatalf("create configmap: %d %s", code, body)
	}
	raw := s.Backend().(*encrypt.Backend).Unwrap()
	kv, err := raw.Get(context.Background(), store.DefaultKeyPrefix+"/secrets/default/db")
	if err != nil {
		t.Fatal(err)
	}
	plain := base64.StdEncoding.EncodeToString([]byte("HUNTER2-PLAIN"))
	if !bytes.HasPrefix(kv.Value, []byte("k8s:enc:aesgcm:v1:k1:")) || bytes.Contains(kv.Value, []byte(plain)) || bytes.Contains(kv.Value, []byte("HUNTER2")) {
		t.Fatalf("etcd holds %q", kv.Value)
	}
	if kv, _ := raw.Get(context.Background(), store.DefaultKeyPrefix+"/configmaps/default/cm"); !bytes.Contains(kv.Value, []byte("CM-PLAIN")) {
		t.Fatalf("configmap was transformed: %q", kv.Value)
	}
	if code, body := ts.raw(t, admin, "GET", "/api/v1/namespaces/default/secrets/db", "", ""); code != 200 || !strings.Contains(body, plain) {
		t.Fatalf("get secret: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Restart with k2 first: the old secret reads, new ones use k2.
	os.WriteFile(cfgFile, []byte(encryptionConfig("k2", "k1")), 0o600)
	s2, _ := runServer(t, cfg)
	ts2 := &testServer{Server: s2, dir: dir}
	admin = ts2.httpClient(t, true)
	if code, body := ts2.raw(t, admin, "GET", "/api/v1/namespaces/default/secrets/db", "", ""); code != 200 || !strings.Contains(body, plain) {
		t.Fatalf("get secret after restart: %d %s", code, body)
	}
	if code, body := ts2.raw(t, admin, "POST", "/api/v1/namespaces/default/secrets", "", strings.Replace(secret, `"db"`, `"db2"`, 1)); code != 201 {
		t.Fatalf("create secret: %d %s", code, body)
	}
	kv, _ = s2.Backend().(*encrypt.Backend).Unwrap().Get(context.Background(), store.DefaultKeyPrefix+"/secrets/default/db2")
	if !bytes.HasPrefix(kv.Value, []byte("k8s:enc:aesgcm:v1:k2:")) {
		t.Fatalf("new secret not written with k2: %q", kv.Value[:24])
	}
}

// A bad encryption configuration is a startup error naming the file and
// the problem.
func TestEncryptionConfigBad(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"short key": strings.Replace(encryptionConfig("k1"), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("1"), 32)), base64.StdEncoding.EncodeToString([]byte("short")), 1),
		"not yaml":  "{{{",
	} {
		f := filepath.Join(dir, "enc.yaml")
		os.WriteFile(f, []byte(content), 0o600)
		_, err := New(Config{DataDir: dir, Listen: "127.0.0.1:0", EncryptionConfigFile: f})
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Fatalf("%s: New = %v, want an error naming %s", name, err, f)
		}
	}
	if _, err := New(Config{DataDir: dir, Listen: "127.0.0.1:0", EncryptionConfigFile: filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing file: %v", err)
	}
}
