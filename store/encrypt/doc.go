// Package encrypt encrypts stored values at rest: a store.Backend wrapper
// that transforms the values of chosen resources on their way to storage
// and back, configured by a Kubernetes EncryptionConfiguration file
// (apiserver.config.k8s.io/v1).
//
// Contract:
//   - Every value of a configured resource is written by the first
//     provider's first key and stored as k8s:enc:<provider>:v1:<key name>:
//     followed by the ciphertext, as kube-apiserver stores it; the wrapped
//     backend never sees the plain value. Providers: aesgcm (crypto/aes and
//     cipher.NewGCM, random 12-byte nonce, the storage key authenticated as
//     additional data so a value cannot be moved to another key), secretbox
//     (golang.org/x/crypto/nacl/secretbox, random 24-byte nonce) and
//     identity (plain).
//   - Every key of every provider reads, so keys rotate by adding the new
//     key first, restarting, rewriting the objects, and then removing the
//     old key. A value without the k8s:enc: prefix is read as plain text
//     only if the identity provider is listed (so encryption can be turned
//     on over existing data).
//   - A value no configured key can read, or one that does not
//     authenticate, is an error wrapping ErrDecrypt that names the key and
//     the prefix, never the value.
//   - Keys, revisions, preconditions, fences and side writes behave
//     exactly as in the wrapped backend (the contract suite in storetest
//     passes over it).
//
// Unlike Kubernetes, a resource is named by the store key's segment (the
// plural name); group-qualified names ("deployments.apps") match that
// segment, and of the wildcards only "*.*" is supported, because keys do
// not carry the group. KMS providers are not implemented.
package encrypt
