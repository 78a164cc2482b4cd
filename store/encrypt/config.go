package encrypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// Configuration is an EncryptionConfiguration file
// (apiserver.config.k8s.io/v1), the format kube-apiserver's
// --encryption-provider-config reads.
type Configuration struct {
	// APIVersion must be apiserver.config.k8s.io/v1.
	APIVersion string `json:"apiVersion"`
	// Kind must be EncryptionConfiguration.
	Kind string `json:"kind"`
	// Resources lists which resources are encrypted, and how.
	Resources []ResourceConfiguration `json:"resources"`
}

// ResourceConfiguration names resources and the providers that transform
// them: the first provider writes, every provider reads.
type ResourceConfiguration struct {
	// Resources are plural resource names ("secrets", "secrets.",
	// "deployments.apps"), or "*.*" for every resource.
	Resources []string `json:"resources"`
	// Providers, in order.
	Providers []ProviderConfiguration `json:"providers"`
}

// ProviderConfiguration is one provider: exactly one field is set.
type ProviderConfiguration struct {
	// AESGCM encrypts with AES in Galois/Counter mode.
	AESGCM *KeysConfiguration `json:"aesgcm,omitempty"`
	// Secretbox encrypts with XSalsa20 and Poly1305 (NaCl secretbox).
	Secretbox *KeysConfiguration `json:"secretbox,omitempty"`
	// Identity stores plain text.
	Identity *struct{} `json:"identity,omitempty"`
}

// KeysConfiguration are the keys of an encrypting provider: the first one
// writes, every one reads.
type KeysConfiguration struct {
	// Keys, in order.
	Keys []Key `json:"keys"`
}

// Key is one named key.
type Key struct {
	// Name is stored in every value the key encrypts
	// (k8s:enc:<provider>:v1:<name>:).
	Name string `json:"name"`
	// Secret is the base64-encoded key: 16, 24 or 32 bytes for aesgcm,
	// 32 bytes for secretbox.
	Secret string `json:"secret"`
}

// LoadFile reads and parses an encryption configuration file. The error
// names the file and the problem.
func LoadFile(path string) (*Configuration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encryption configuration: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("encryption configuration %s: %w", path, err)
	}
	return c, nil
}

// Parse parses an encryption configuration (YAML or JSON) strictly and
// validates it, keys included: unknown fields, a provider without keys, a
// key that is not base64 or has the wrong length, a duplicate key name or
// resource are errors naming the place.
func Parse(data []byte) (*Configuration, error) {
	var c Configuration
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty")
	}
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the configuration and every key.
func (c *Configuration) Validate() error {
	if c.APIVersion != "apiserver.config.k8s.io/v1" || c.Kind != "EncryptionConfiguration" {
		return fmt.Errorf("want apiVersion apiserver.config.k8s.io/v1 and kind EncryptionConfiguration, got %q %q", c.APIVersion, c.Kind)
	}
	if len(c.Resources) == 0 {
		return errors.New("resources: must not be empty")
	}
	seen := map[string]bool{}
	for i, rc := range c.Resources {
		if len(rc.Resources) == 0 {
			return fmt.Errorf("resources[%d].resources: must not be empty", i)
		}
		for j, r := range rc.Resources {
			name, err := resourceName(r)
			if err != nil {
				return fmt.Errorf("resources[%d].resources[%d]: %w", i, j, err)
			}
			if seen[name] {
				return fmt.Errorf("resources[%d].resources[%d]: %q is listed twice", i, j, r)
			}
			seen[name] = true
		}
		if len(rc.Providers) == 0 {
			return fmt.Errorf("resources[%d].providers: must not be empty", i)
		}
		if _, err := newTransformer(rc.Providers); err != nil {
			return fmt.Errorf("resources[%d].%w", i, err)
		}
	}
	return nil
}

// resourceName maps a configured resource to the key segment the store
// uses (the plural name; "*" for every resource).
func resourceName(r string) (string, error) {
	if r == "*.*" {
		return "*", nil
	}
	name, _, _ := strings.Cut(r, ".")
	if name == "" || name == "*" {
		return "", fmt.Errorf("%q: want a plural resource name (\"secrets\", \"deployments.apps\") or \"*.*\"", r)
	}
	return name, nil
}

func decodeKey(k Key, sizes ...int) ([]byte, error) {
	if k.Name == "" || strings.Contains(k.Name, ":") {
		return nil, fmt.Errorf("key name %q: must be non-empty and contain no ':'", k.Name)
	}
	b, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, fmt.Errorf("key %q: secret is not base64: %w", k.Name, err)
	}
	for _, s := range sizes {
		if len(b) == s {
			return b, nil
		}
	}
	return nil, fmt.Errorf("key %q: secret is %d bytes, want one of %v", k.Name, len(b), sizes)
}
