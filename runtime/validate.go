package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// ReservedLabelPrefix starts the labels the runtime sets itself. Callers may
// select on them but not set them.
const ReservedLabelPrefix = "setpoint.dev/"

// Reserved labels that tie every sandbox and container to its pod. A kubelet
// that restarts lists by these to adopt what runs instead of duplicating it.
const (
	LabelPodName       = ReservedLabelPrefix + "pod-name"
	LabelPodNamespace  = ReservedLabelPrefix + "pod-namespace"
	LabelPodUID        = ReservedLabelPrefix + "pod-uid"
	LabelSandboxID     = ReservedLabelPrefix + "sandbox-id"
	LabelContainerName = ReservedLabelPrefix + "container-name"
	LabelAttempt       = ReservedLabelPrefix + "attempt"
)

// Limits on resources, as the kernel and runc accept them.
const (
	MinMemoryLimit = 4 << 20
	MinCPUShares   = 2
	MaxCPUShares   = 262144
	MinCPUQuota    = 1000
	MinCPUPeriod   = 1000
	MaxCPUPeriod   = 1000000
	// DefaultCPUPeriod is used when CPUQuota is set without CPUPeriod.
	DefaultCPUPeriod = 100000
	// maxLabelSize is containerd's limit on a label's key plus value.
	maxLabelSize = 4096
)

// SandboxID returns the ID of the sandbox cfg describes: a hash of its pod
// identity and attempt, so the same pod attempt always maps to the same ID.
func SandboxID(cfg SandboxConfig) string {
	return hashID("sandbox", cfg.Namespace, cfg.Name, cfg.UID, strconv.FormatUint(uint64(cfg.Attempt), 10))
}

// ContainerID returns the ID of the container cfg describes in sandboxID.
func ContainerID(sandboxID string, cfg ContainerConfig) string {
	return hashID("container", sandboxID, cfg.Name, strconv.FormatUint(uint64(cfg.Attempt), 10))
}

func hashID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:12])
}

// SandboxLabels returns the labels of the sandbox cfg describes: the caller's
// plus the reserved identity labels.
func SandboxLabels(cfg SandboxConfig) map[string]string {
	l := make(map[string]string, len(cfg.Labels)+4)
	for k, v := range cfg.Labels {
		l[k] = v
	}
	l[LabelPodName] = cfg.Name
	l[LabelPodNamespace] = cfg.Namespace
	l[LabelPodUID] = cfg.UID
	l[LabelAttempt] = strconv.FormatUint(uint64(cfg.Attempt), 10)
	return l
}

// ContainerLabels returns the labels of the container cfg describes in
// sandbox sb: the caller's plus the reserved identity labels.
func ContainerLabels(sb SandboxStatus, cfg ContainerConfig) map[string]string {
	l := make(map[string]string, len(cfg.Labels)+6)
	for k, v := range cfg.Labels {
		l[k] = v
	}
	l[LabelPodName] = sb.Name
	l[LabelPodNamespace] = sb.Namespace
	l[LabelPodUID] = sb.UID
	l[LabelSandboxID] = sb.ID
	l[LabelContainerName] = cfg.Name
	l[LabelAttempt] = strconv.FormatUint(uint64(cfg.Attempt), 10)
	return l
}

// Validate checks cfg. The error is a *FieldError naming the field.
func (cfg SandboxConfig) Validate() error {
	if err := checkDNS("name", cfg.Name, 253, true); err != nil {
		return err
	}
	if cfg.Namespace != "" {
		if err := checkDNS("namespace", cfg.Namespace, 63, false); err != nil {
			return err
		}
	}
	if cfg.UID == "" {
		return fieldErr("uid", "", "is required")
	}
	if len(cfg.UID) > 128 || strings.ContainsFunc(cfg.UID, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return fieldErr("uid", cfg.UID, "must be at most 128 printable ASCII characters without spaces")
	}
	if cfg.Hostname != "" {
		if err := checkDNS("hostname", cfg.Hostname, 63, false); err != nil {
			return err
		}
	}
	if err := checkNetwork(cfg); err != nil {
		return err
	}
	return checkLabels(cfg.Labels)
}

// Validate checks cfg. The error is a *FieldError naming the field.
func (cfg ContainerConfig) Validate() error {
	if err := checkDNS("name", cfg.Name, 63, false); err != nil {
		return err
	}
	if cfg.Image == "" {
		return fieldErr("image", "", "is required")
	}
	if strings.ContainsFunc(cfg.Image, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fieldErr("image", cfg.Image, "must not contain spaces or control characters")
	}
	if len(cfg.Command) > 0 && cfg.Command[0] == "" {
		return fieldErr("command[0]", "", "must not be empty")
	}
	for i, a := range cfg.Command {
		if strings.ContainsRune(a, 0) {
			return fieldErr(fmt.Sprintf("command[%d]", i), a, "must not contain NUL")
		}
	}
	for i, a := range cfg.Args {
		if strings.ContainsRune(a, 0) {
			return fieldErr(fmt.Sprintf("args[%d]", i), a, "must not contain NUL")
		}
	}
	for i, e := range cfg.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || k == "" || strings.ContainsRune(e, 0) {
			return fieldErr(fmt.Sprintf("env[%d]", i), e, "must be KEY=VALUE with a non-empty key and no NUL")
		}
	}
	if cfg.WorkingDir != "" && !strings.HasPrefix(cfg.WorkingDir, "/") {
		return fieldErr("workingDir", cfg.WorkingDir, "must be an absolute path")
	}
	if err := checkLabels(cfg.Labels); err != nil {
		return err
	}
	if err := cfg.Resources.Validate(); err != nil {
		return err
	}
	if err := checkMounts(cfg.Mounts); err != nil {
		return err
	}
	if cfg.StdinOnce && !cfg.Stdin {
		return fieldErr("stdinOnce", "", "is set without stdin")
	}
	return cfg.Security.Validate()
}

// Validate checks r. The error is a *FieldError naming the field.
func (r Resources) Validate() error {
	if r.CPUShares != 0 && (r.CPUShares < MinCPUShares || r.CPUShares > MaxCPUShares) {
		return fieldErr("resources.cpuShares", strconv.FormatUint(r.CPUShares, 10), fmt.Sprintf("must be 0 or between %d and %d", MinCPUShares, MaxCPUShares))
	}
	if r.CPUQuota < 0 || (r.CPUQuota != 0 && r.CPUQuota < MinCPUQuota) {
		return fieldErr("resources.cpuQuota", strconv.FormatInt(r.CPUQuota, 10), fmt.Sprintf("must be 0 or at least %d microseconds", MinCPUQuota))
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < MinCPUPeriod || r.CPUPeriod > MaxCPUPeriod) {
		return fieldErr("resources.cpuPeriod", strconv.FormatUint(r.CPUPeriod, 10), fmt.Sprintf("must be 0 or between %d and %d microseconds", MinCPUPeriod, MaxCPUPeriod))
	}
	if r.CPUPeriod != 0 && r.CPUQuota == 0 {
		return fieldErr("resources.cpuPeriod", strconv.FormatUint(r.CPUPeriod, 10), "is set without resources.cpuQuota")
	}
	if r.MemoryLimit < 0 || (r.MemoryLimit != 0 && r.MemoryLimit < MinMemoryLimit) {
		return fieldErr("resources.memoryLimit", strconv.FormatInt(r.MemoryLimit, 10), fmt.Sprintf("must be 0 or at least %d bytes", MinMemoryLimit))
	}
	if r.PidsLimit < 0 {
		return fieldErr("resources.pidsLimit", strconv.FormatInt(r.PidsLimit, 10), "must not be negative")
	}
	return nil
}

func checkLabels(labels map[string]string) error {
	for k, v := range labels {
		switch {
		case k == "":
			return fieldErr("labels", "", "keys must not be empty")
		case strings.HasPrefix(k, ReservedLabelPrefix):
			return fieldErr("labels", k, "uses the reserved prefix "+ReservedLabelPrefix)
		case len(k)+len(v) > maxLabelSize:
			return fieldErr("labels", k, fmt.Sprintf("key and value exceed %d bytes", maxLabelSize))
		case strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			return fieldErr("labels", k, "keys must not contain spaces or control characters")
		}
	}
	return nil
}

// checkDNS checks a DNS-1123 label (or subdomain, when dots are allowed).
func checkDNS(field, v string, max int, dots bool) error {
	if v == "" {
		return fieldErr(field, "", "is required")
	}
	if len(v) > max {
		return fieldErr(field, v, fmt.Sprintf("must be at most %d characters", max))
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || dots && c == '.'
		if !ok {
			return fieldErr(field, v, "must consist of lower case letters, digits and '-'"+map[bool]string{true: " or '.'", false: ""}[dots])
		}
	}
	if !isAlnum(v[0]) || !isAlnum(v[len(v)-1]) {
		return fieldErr(field, v, "must start and end with a letter or digit")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// Reason returns the status reason for an exit code.
func Reason(exitCode int, oomKilled bool) string {
	switch {
	case oomKilled:
		return ReasonOOMKilled
	case exitCode == 0:
		return ReasonCompleted
	default:
		return ReasonError
	}
}
