package multicluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// ErrInvalid is wrapped by every Validate error of this package.
var ErrInvalid = errors.New("invalid")

// Priority bounds of an override, and its default (as Clusternet).
const (
	MinPriority     = 0
	MaxPriority     = 1000
	DefaultPriority = 500
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// RegistrationName is the name of the ClusterRegistrationRequest of the
// cluster with the given ID.
func RegistrationName(clusterID string) string { return "mcls-" + clusterID }

// SetDefaults fills r's unset fields: clusterName = clusterId, syncMode
// Pull.
func (r *ClusterRegistrationRequest) SetDefaults() {
	if r.Spec.ClusterName == "" {
		r.Spec.ClusterName = r.Spec.ClusterID
	}
	if r.Spec.SyncMode == "" {
		r.Spec.SyncMode = SyncPull
	}
}

// Validate reports every problem of r, each naming its field.
func (r *ClusterRegistrationRequest) Validate() error {
	var errs []error
	if !dnsLabel.MatchString(r.Spec.ClusterID) {
		errs = append(errs, fmt.Errorf("spec.clusterId: %q is not a DNS label (lower-case letters, digits and '-', at most 63)", r.Spec.ClusterID))
	} else if r.Name != "" && r.Name != RegistrationName(r.Spec.ClusterID) {
		errs = append(errs, fmt.Errorf("metadata.name: %q must be %q", r.Name, RegistrationName(r.Spec.ClusterID)))
	}
	errs = append(errs, syncMode("spec.syncMode", r.Spec.SyncMode)...)
	switch r.Status.Result {
	case "", RegistrationPending, RegistrationApproved, RegistrationDenied:
	default:
		errs = append(errs, fmt.Errorf("status.result: %q is not one of Pending, Approved, Denied", r.Status.Result))
	}
	return wrap("clusterregistrationrequest", r.Name, errs)
}

// SetDefaults fills c's unset fields: syncMode Pull.
func (c *ManagedCluster) SetDefaults() {
	if c.Spec.SyncMode == "" {
		c.Spec.SyncMode = SyncPull
	}
}

// Validate reports every problem of c, each naming its field.
func (c *ManagedCluster) Validate() error {
	var errs []error
	if !dnsLabel.MatchString(c.Spec.ClusterID) {
		errs = append(errs, fmt.Errorf("spec.clusterId: %q is not a DNS label", c.Spec.ClusterID))
	}
	errs = append(errs, syncMode("spec.syncMode", c.Spec.SyncMode)...)
	if c.Status.NodeCount < 0 || c.Status.ReadyNodeCount < 0 || c.Status.ReadyNodeCount > c.Status.NodeCount {
		errs = append(errs, fmt.Errorf("status.readyNodeCount: %d ready of %d nodes", c.Status.ReadyNodeCount, c.Status.NodeCount))
	}
	for _, f := range []struct {
		path string
		l    api.ResourceList
	}{{"status.allocatable", c.Status.Allocatable}, {"status.available", c.Status.Available}} {
		for name, q := range f.l {
			if q.Sign() < 0 {
				errs = append(errs, fmt.Errorf("%s[%s]: %s is negative", f.path, name, q.String()))
			}
		}
	}
	return wrap("managedcluster", c.Name, errs)
}

// SetDefaults fills s's unset fields: strategy Replication, dividing
// type Static under Dividing, subscriber weight 1.
func (s *Subscription) SetDefaults() {
	if s.Spec.SchedulingStrategy == "" {
		s.Spec.SchedulingStrategy = Replication
	}
	if s.Spec.SchedulingStrategy == Dividing && s.Spec.DividingType == "" {
		s.Spec.DividingType = DividingStatic
	}
	for i := range s.Spec.Subscribers {
		if s.Spec.Subscribers[i].Weight == 0 {
			s.Spec.Subscribers[i].Weight = 1
		}
	}
}

// Validate reports every problem of s, each naming its field: a bad
// selector names spec.subscribers[i].clusterAffinity.
func (s *Subscription) Validate() error {
	var errs []error
	switch s.Spec.SchedulingStrategy {
	case Replication, "":
		if s.Spec.DividingType != "" {
			errs = append(errs, fmt.Errorf("spec.dividingType: %q is only allowed with schedulingStrategy Dividing", s.Spec.DividingType))
		}
	case Dividing:
		switch s.Spec.DividingType {
		case "", DividingStatic, DividingDynamic:
		default:
			errs = append(errs, fmt.Errorf("spec.dividingType: %q is not one of Static, Dynamic", s.Spec.DividingType))
		}
	default:
		errs = append(errs, fmt.Errorf("spec.schedulingStrategy: %q is not one of Replication, Dividing", s.Spec.SchedulingStrategy))
	}
	if len(s.Spec.Subscribers) == 0 {
		errs = append(errs, errors.New("spec.subscribers: at least one required"))
	}
	for i, sub := range s.Spec.Subscribers {
		path := fmt.Sprintf("spec.subscribers[%d]", i)
		errs = append(errs, selector(path+".clusterAffinity", sub.ClusterAffinity, true)...)
		if sub.Weight < 0 {
			errs = append(errs, fmt.Errorf("%s.weight: %d is negative", path, sub.Weight))
		}
	}
	if len(s.Spec.Feeds)+len(s.Spec.Manifests) == 0 {
		errs = append(errs, errors.New("spec.feeds: feeds or manifests must name at least one object"))
	}
	for i, f := range s.Spec.Feeds {
		errs = append(errs, f.validate(fmt.Sprintf("spec.feeds[%d]", i))...)
	}
	for i, m := range s.Spec.Manifests {
		errs = append(errs, manifest(fmt.Sprintf("spec.manifests[%d]", i), m)...)
	}
	return wrap("subscription", s.Name, errs)
}

// SetDefaults fills l's unset fields: priority 500.
func (l *Localization) SetDefaults() { l.Spec.setDefaults() }

// Validate reports every problem of l, each naming its field: a bad patch
// names spec.overrides[i].value.
func (l *Localization) Validate() error {
	return wrap("localization", l.Name, l.Spec.validate())
}

// SetDefaults fills g's unset fields: priority 500.
func (g *Globalization) SetDefaults() { g.Spec.setDefaults() }

// Validate reports every problem of g, each naming its field.
func (g *Globalization) Validate() error {
	errs := g.Spec.validate()
	errs = append(errs, selector("clusterAffinity", g.ClusterAffinity, false)...)
	return wrap("globalization", g.Name, errs)
}

// Validate reports every problem of d, each naming its field.
func (d *Description) Validate() error {
	var errs []error
	if d.Spec.Subscription == "" {
		errs = append(errs, errors.New("spec.subscription: required"))
	}
	for i, m := range d.Spec.Objects {
		errs = append(errs, manifest(fmt.Sprintf("spec.objects[%d]", i), m)...)
	}
	switch d.Status.Phase {
	case "", DescriptionPending, DescriptionSuccess, DescriptionFailure:
	default:
		errs = append(errs, fmt.Errorf("status.phase: %q is not one of Pending, Success, Failure", d.Status.Phase))
	}
	return wrap("description", d.Name, errs)
}

func (o *OverrideSpec) setDefaults() {
	if o.Priority == 0 {
		o.Priority = DefaultPriority
	}
}

func (o *OverrideSpec) validate() []error {
	errs := o.Feed.validate("spec.feed")
	if o.Priority < MinPriority || o.Priority > MaxPriority {
		errs = append(errs, fmt.Errorf("spec.priority: %d is not within [%d, %d]", o.Priority, MinPriority, MaxPriority))
	}
	if len(o.Overrides) == 0 {
		errs = append(errs, errors.New("spec.overrides: at least one required"))
	}
	for i, ov := range o.Overrides {
		path := fmt.Sprintf("spec.overrides[%d]", i)
		switch ov.Type {
		case JSONPatchOverride:
			if err := ValidateJSONPatch([]byte(ov.Value)); err != nil {
				errs = append(errs, fmt.Errorf("%s.value: %w", path, err))
			}
		case MergePatchOverride:
			var m map[string]any
			if err := json.Unmarshal([]byte(ov.Value), &m); err != nil || m == nil {
				errs = append(errs, fmt.Errorf("%s.value: a merge patch must be a JSON object", path))
			}
		default:
			errs = append(errs, fmt.Errorf("%s.type: %q is not one of JSONPatch, MergePatch", path, ov.Type))
		}
	}
	return errs
}

// ValidateJSONPatch checks that patch is an RFC 6902 document: an array of
// operations, each with a known op, a JSON-pointer path, a value where the
// op needs one and a from where it needs one. It does not apply it.
func ValidateJSONPatch(patch []byte) error {
	var ops []map[string]json.RawMessage
	if err := json.Unmarshal(patch, &ops); err != nil {
		return fmt.Errorf("a JSON patch must be an array of operation objects: %v", err)
	}
	var errs []error
	for i, op := range ops {
		var name, path, from string
		_ = json.Unmarshal(op["op"], &name)
		if err := json.Unmarshal(op["path"], &path); err != nil || (path != "" && !strings.HasPrefix(path, "/")) {
			errs = append(errs, fmt.Errorf("[%d].path: %s is not a JSON pointer", i, op["path"]))
		}
		switch name {
		case "add", "replace", "test":
			if _, ok := op["value"]; !ok {
				errs = append(errs, fmt.Errorf("[%d].value: required by %q", i, name))
			}
		case "remove":
		case "move", "copy":
			if err := json.Unmarshal(op["from"], &from); err != nil || (from != "" && !strings.HasPrefix(from, "/")) {
				errs = append(errs, fmt.Errorf("[%d].from: %s is not a JSON pointer", i, op["from"]))
			}
		default:
			errs = append(errs, fmt.Errorf("[%d].op: %q is not one of add, remove, replace, move, copy, test", i, name))
		}
	}
	return errors.Join(errs...)
}

func (f Feed) validate(path string) []error {
	var errs []error
	if f.APIVersion == "" {
		errs = append(errs, fmt.Errorf("%s.apiVersion: required", path))
	}
	if f.Kind == "" {
		errs = append(errs, fmt.Errorf("%s.kind: required", path))
	}
	if f.Name == "" {
		errs = append(errs, fmt.Errorf("%s.name: required", path))
	}
	return errs
}

// manifest checks that m is a JSON object with apiVersion, kind and
// metadata.name.
func manifest(path string, m api.RawExtension) []error {
	var obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(m.Raw, &obj); err != nil {
		return []error{fmt.Errorf("%s: not a JSON object: %v", path, err)}
	}
	var errs []error
	if obj.APIVersion == "" || obj.Kind == "" {
		errs = append(errs, fmt.Errorf("%s: apiVersion and kind required", path))
	}
	if obj.Metadata.Name == "" {
		errs = append(errs, fmt.Errorf("%s.metadata.name: required", path))
	}
	return errs
}

func selector(path string, s *api.LabelSelector, required bool) []error {
	if s == nil {
		if required {
			return []error{fmt.Errorf("%s: required (an empty selector matches every cluster)", path)}
		}
		return nil
	}
	if _, err := s.Selector(); err != nil {
		return []error{fmt.Errorf("%s: %w", path, err)}
	}
	return nil
}

func syncMode(path string, m SyncMode) []error {
	switch m {
	case "", SyncPull, SyncPush:
		return nil
	}
	return []error{fmt.Errorf("%s: %q is not one of Pull, Push", path, m)}
}

func wrap(kind, name string, errs []error) error {
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %s %q: %w", ErrInvalid, kind, name, err)
	}
	return nil
}

// ClusterNamespace is the dedicated namespace in the parent of the child
// cluster with the given ID; its ManagedCluster is named after the ID.
func ClusterNamespace(clusterID string) string { return "mcls-" + clusterID }
