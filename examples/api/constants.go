package api

// Untyped constants Kubernetes' core/v1 package declares that the
// generator does not emit (it emits the typed enum values): well-known
// keys of secrets and annotations, and other names the API fixes.
const (
	// NamespaceDefault is the namespace of objects that name none.
	NamespaceDefault = "default"
	// NamespaceSystem is the namespace of the cluster's own components.
	NamespaceSystem = "kube-system"
	// NamespacePublic is readable by everyone.
	NamespacePublic = "kube-public"
	// NamespaceNodeLease holds the nodes' heartbeat leases.
	NamespaceNodeLease = "kube-node-lease"

	// ServiceAccountNameKey is the annotation a service account token
	// secret names its service account with.
	ServiceAccountNameKey = "kubernetes.io/service-account.name"
	// ServiceAccountUIDKey is the annotation with that account's UID.
	ServiceAccountUIDKey = "kubernetes.io/service-account.uid"
	// ServiceAccountTokenKey is the token's key in such a secret.
	ServiceAccountTokenKey = "token"
	// ServiceAccountKubeconfigKey is the optional kubeconfig's key.
	ServiceAccountKubeconfigKey = "kubernetes.kubeconfig"
	// ServiceAccountRootCAKey is the CA bundle's key.
	ServiceAccountRootCAKey = "ca.crt"
	// ServiceAccountNamespaceKey is the namespace's key.
	ServiceAccountNamespaceKey = "namespace"

	// DockerConfigKey is the key of a kubernetes.io/dockercfg secret.
	DockerConfigKey = ".dockercfg"
	// DockerConfigJSONKey is the key of a kubernetes.io/dockerconfigjson
	// secret.
	DockerConfigJSONKey = ".dockerconfigjson"
	// BasicAuthUsernameKey and BasicAuthPasswordKey are the keys of a
	// kubernetes.io/basic-auth secret (one is required).
	BasicAuthUsernameKey = "username"
	BasicAuthPasswordKey = "password"
	// SSHAuthPrivateKey is the key of a kubernetes.io/ssh-auth secret.
	SSHAuthPrivateKey = "ssh-privatekey"
	// TLSCertKey and TLSPrivateKeyKey are the keys of a kubernetes.io/tls
	// secret.
	TLSCertKey       = "tls.crt"
	TLSPrivateKeyKey = "tls.key"
	// BootstrapTokenIDKey and BootstrapTokenSecretKey are the keys of a
	// bootstrap.kubernetes.io/token secret, named
	// bootstrap-token-<token id> in kube-system.
	BootstrapTokenIDKey     = "token-id"
	BootstrapTokenSecretKey = "token-secret"
	// BootstrapTokenSecretPrefix starts a bootstrap token secret's name.
	BootstrapTokenSecretPrefix = "bootstrap-token-"

	// ClusterIPNone is the cluster IP of a headless service.
	ClusterIPNone = "None"

	// MaxSecretSize is the most data a secret (or config map) may hold.
	MaxSecretSize = 1 << 20

	// LabelHostname, LabelTopologyZone and LabelOSStable are well-known
	// node labels.
	LabelHostname     = "kubernetes.io/hostname"
	LabelTopologyZone = "topology.kubernetes.io/zone"
	LabelOSStable     = "kubernetes.io/os"
)
