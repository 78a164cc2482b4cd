package encrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
)

// ErrDecrypt is wrapped by every failure to read a stored value: no
// configured key matches its prefix, or the ciphertext does not
// authenticate.
var ErrDecrypt = errors.New("encrypt: cannot decrypt stored value")

// encPrefix starts every encrypted value, as in Kubernetes.
const encPrefix = "k8s:enc:"

// keyed is one key of an encrypting provider.
type keyed interface {
	// seal encrypts plain, authenticating the storage key as extra data.
	seal(plain []byte, storageKey string) ([]byte, error)
	// open decrypts what seal returned (without the prefix).
	open(sealed []byte, storageKey string) ([]byte, error)
}

// prefixed is a key with its stored prefix k8s:enc:<provider>:v1:<name>:.
type prefixed struct {
	prefix []byte
	k      keyed
}

// Transformer turns plain values into stored ones and back. The first
// provider's first key writes; every key of every provider reads. Values
// with no k8s:enc: prefix are read as plain text only if the identity
// provider is configured.
type Transformer struct {
	write    *prefixed // nil: identity writes
	read     []prefixed
	identity bool
}

func newTransformer(ps []ProviderConfiguration) (*Transformer, error) {
	t := &Transformer{}
	for i, p := range ps {
		n := 0
		for _, set := range []bool{p.AESGCM != nil, p.Secretbox != nil, p.Identity != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("providers[%d]: exactly one of aesgcm, secretbox and identity must be set", i)
		}
		if p.Identity != nil {
			t.identity = true
			continue
		}
		name, keys, sizes := "aesgcm", p.AESGCM, []int{16, 24, 32}
		if p.Secretbox != nil {
			name, keys, sizes = "secretbox", p.Secretbox, []int{32}
		}
		if len(keys.Keys) == 0 {
			return nil, fmt.Errorf("providers[%d].%s.keys: must not be empty", i, name)
		}
		for j, k := range keys.Keys {
			raw, err := decodeKey(k, sizes...)
			if err != nil {
				return nil, fmt.Errorf("providers[%d].%s.keys[%d]: %w", i, name, j, err)
			}
			pk := prefixed{prefix: []byte(encPrefix + name + ":v1:" + k.Name + ":")}
			for _, o := range t.read {
				if bytes.Equal(o.prefix, pk.prefix) {
					return nil, fmt.Errorf("providers[%d].%s.keys[%d]: key name %q is used twice", i, name, j, k.Name)
				}
			}
			if name == "aesgcm" {
				block, _ := aes.NewCipher(raw) // the length is checked above
				aead, err := cipher.NewGCM(block)
				if err != nil {
					return nil, err
				}
				pk.k = gcmKey{aead}
			} else {
				var sk secretboxKey
				copy(sk[:], raw)
				pk.k = &sk
			}
			t.read = append(t.read, pk)
			if i == 0 && j == 0 {
				t.write = &t.read[0]
			}
		}
	}
	if t.write != nil {
		// t.read may have grown since; point at the stored element.
		t.write = &t.read[0]
	}
	return t, nil
}

// ToStorage returns the value to store at storageKey for plain.
func (t *Transformer) ToStorage(plain []byte, storageKey string) ([]byte, error) {
	if t.write == nil {
		return plain, nil
	}
	sealed, err := t.write.k.seal(plain, storageKey)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %s: %w", storageKey, err)
	}
	return append(append(make([]byte, 0, len(t.write.prefix)+len(sealed)), t.write.prefix...), sealed...), nil
}

// FromStorage returns the plain value of what is stored at storageKey.
// stale reports that the value was not written by the current write key
// (a rewrite would re-encrypt it). Errors wrap ErrDecrypt and never
// contain the value.
func (t *Transformer) FromStorage(stored []byte, storageKey string) (plain []byte, stale bool, err error) {
	if !bytes.HasPrefix(stored, []byte(encPrefix)) {
		if t.identity {
			return stored, t.write != nil, nil
		}
		return nil, false, fmt.Errorf("%w: %s is not encrypted and the identity provider is not configured", ErrDecrypt, storageKey)
	}
	for i := range t.read {
		pk := &t.read[i]
		if !bytes.HasPrefix(stored, pk.prefix) {
			continue
		}
		plain, err := pk.k.open(stored[len(pk.prefix):], storageKey)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %s with key %s: %v", ErrDecrypt, storageKey, pk.prefix, err)
		}
		return plain, pk != t.write, nil
	}
	head := stored[:min(len(stored), 80)]
	if f := bytes.SplitN(head, []byte(":"), 6); len(f) == 6 {
		head = head[:len(head)-len(f[5])]
	}
	return nil, false, fmt.Errorf("%w: %s: no configured key for prefix %q", ErrDecrypt, storageKey, head)
}

type gcmKey struct{ aead cipher.AEAD }

func (g gcmKey) seal(plain []byte, storageKey string) ([]byte, error) {
	nonce := make([]byte, g.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.aead.Seal(nonce, nonce, plain, []byte(storageKey)), nil
}

func (g gcmKey) open(sealed []byte, storageKey string) ([]byte, error) {
	ns := g.aead.NonceSize()
	if len(sealed) < ns {
		return nil, errors.New("value shorter than a nonce")
	}
	return g.aead.Open(nil, sealed[:ns], sealed[ns:], []byte(storageKey))
}

type secretboxKey [32]byte

func (k *secretboxKey) seal(plain []byte, _ string) ([]byte, error) {
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	return secretbox.Seal(nonce[:], plain, &nonce, (*[32]byte)(k)), nil
}

func (k *secretboxKey) open(sealed []byte, _ string) ([]byte, error) {
	if len(sealed) < 24 {
		return nil, errors.New("value shorter than a nonce")
	}
	var nonce [24]byte
	copy(nonce[:], sealed)
	out, ok := secretbox.Open(nil, sealed[24:], &nonce, (*[32]byte)(k))
	if !ok {
		return nil, errors.New("secretbox: message does not authenticate")
	}
	return out, nil
}
