package apiserver

import (
	"google.golang.org/protobuf/encoding/protowire"

	exapi "github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/internal/pbwire"
	"github.com/setpoint-dev/setpoint/watch"
)

// The legacy discovery documents in Kubernetes' protobuf encoding, with
// the field numbers of meta/v1's generated.proto:
//
//	message APIVersions { repeated string versions = 1; repeated ServerAddressByClientCIDR serverAddressByClientCIDRs = 2; }
//	message ServerAddressByClientCIDR { string clientCIDR = 1; string serverAddress = 2; }
//	message APIGroupList { repeated APIGroup groups = 1; }
//	message APIGroup { string name = 1; repeated GroupVersionForDiscovery versions = 2; GroupVersionForDiscovery preferredVersion = 3; repeated ServerAddressByClientCIDR serverAddressByClientCIDRs = 4; }
//	message GroupVersionForDiscovery { string groupVersion = 1; string version = 2; }
//	message APIResourceList { string groupVersion = 1; repeated APIResource resources = 2; }
//	message APIResource { string name = 1; bool namespaced = 2; string kind = 3; Verbs verbs = 4; repeated string shortNames = 5;
//	  string singularName = 6; repeated string categories = 7; string group = 8; string version = 9; string storageVersionHash = 10; }
//	message Verbs { repeated string items = 1; }

func appendStrings(b []byte, num int, ss []string) []byte {
	for _, s := range ss {
		b = pbwire.AppendStringAlways(b, protoNum(num), s)
	}
	return b
}

func appendCIDRs(b []byte, num int, cidrs []exapi.ServerAddressByClientCIDR) []byte {
	for _, c := range cidrs {
		var m []byte
		m = pbwire.AppendStringAlways(m, 1, c.ClientCIDR)
		m = pbwire.AppendStringAlways(m, 2, c.ServerAddress)
		b = pbwire.AppendBytes(b, protoNum(num), m)
	}
	return b
}

func gvForDiscovery(v exapi.GroupVersionForDiscovery) []byte {
	var m []byte
	m = pbwire.AppendStringAlways(m, 1, v.GroupVersion)
	return pbwire.AppendStringAlways(m, 2, v.Version)
}

func apiVersionsProtobuf(v *exapi.APIVersions) []byte {
	b := appendStrings(nil, 1, v.Versions)
	return watch.AppendRawEnvelope(nil, "v1", "APIVersions", appendCIDRs(b, 2, v.ServerAddressByClientCIDRs))
}

func apiGroupMessage(g exapi.APIGroup) []byte {
	var m []byte
	m = pbwire.AppendStringAlways(m, 1, g.Name)
	for _, v := range g.Versions {
		m = pbwire.AppendBytes(m, 2, gvForDiscovery(v))
	}
	return pbwire.AppendBytes(m, 3, gvForDiscovery(g.PreferredVersion))
}

func apiGroupProtobuf(g exapi.APIGroup) []byte {
	return watch.AppendRawEnvelope(nil, "v1", "APIGroup", apiGroupMessage(g))
}

func apiGroupListProtobuf(l *exapi.APIGroupList) []byte {
	var b []byte
	for _, g := range l.Groups {
		b = pbwire.AppendBytes(b, 1, apiGroupMessage(g))
	}
	return watch.AppendRawEnvelope(nil, "v1", "APIGroupList", b)
}

func apiResourceListProtobuf(l *exapi.APIResourceList) []byte {
	var b []byte
	b = pbwire.AppendStringAlways(b, 1, l.GroupVersion)
	for _, r := range l.Resources {
		var m []byte
		m = pbwire.AppendStringAlways(m, 1, r.Name)
		m = pbwire.AppendVarint(m, 2, boolVarint(r.Namespaced))
		m = pbwire.AppendStringAlways(m, 3, r.Kind)
		m = pbwire.AppendBytes(m, 4, appendStrings(nil, 1, r.Verbs))
		m = appendStrings(m, 5, r.ShortNames)
		m = pbwire.AppendStringAlways(m, 6, r.SingularName)
		m = appendStrings(m, 7, r.Categories)
		m = pbwire.AppendStringAlways(m, 8, r.Group)
		m = pbwire.AppendStringAlways(m, 9, r.Version)
		m = pbwire.AppendStringAlways(m, 10, "")
		b = pbwire.AppendBytes(b, 2, m)
	}
	return watch.AppendRawEnvelope(nil, "v1", "APIResourceList", b)
}

func boolVarint(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

func protoNum(n int) protowire.Number { return protowire.Number(n) }
