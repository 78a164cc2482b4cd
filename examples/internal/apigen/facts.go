package apigen

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// Facts is the committed schema file written by bench/cmd/apiextract: the
// Go shape, protobuf numbers and OpenAPI facts of every Kubernetes type the
// example cluster serves, with no descriptions.
type Facts struct {
	Packages []*FactPackage `json:"packages"`
	Types    []*FactType    `json:"types"`
}

// FactPackage is one Kubernetes Go package.
type FactPackage struct {
	Key          string `json:"key"`
	GoPath       string `json:"goPath"`
	ProtoPackage string `json:"protoPackage"`
	Group        string `json:"group"`
	Version      string `json:"version"`
}

// FactType is one named Kubernetes Go type.
type FactType struct {
	Pkg          string              `json:"pkg"`
	Name         string              `json:"name"`
	Kind         string              `json:"kind"`
	Underlying   string              `json:"underlying"`
	Root         bool                `json:"root"`
	GVK          []map[string]string `json:"gvk"`
	OpenAPIName  string              `json:"openAPIName"`
	Schema       map[string]any      `json:"schema"`
	ProtoMessage string              `json:"protoMessage"`
	ProtoFields  []*FactProtoField   `json:"protoFields"`
	Fields       []*FactField        `json:"fields"`
	Consts       []*FactConst        `json:"consts"`
}

// QName is the type's qualified name, "core/v1.Pod".
func (t *FactType) QName() string { return t.Pkg + "." + t.Name }

// FactField is one struct field.
type FactField struct {
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	Embedded    bool           `json:"embedded"`
	Tag         string         `json:"tag"`
	ProtoNumber int            `json:"protoNumber"`
	ProtoType   string         `json:"protoType"`
	ProtoLabel  string         `json:"protoLabel"`
	Schema      map[string]any `json:"schema"`
	Required    bool           `json:"required"`
}

// JSONName is the field's name in JSON ("" for an inlined field).
func (f *FactField) JSONName() string {
	n, _, _ := strings.Cut(reflect.StructTag(f.Tag).Get("json"), ",")
	return n
}

// FactProtoField is a field of a .proto message.
type FactProtoField struct {
	Name   string `json:"name"`
	Number int    `json:"number"`
	Label  string `json:"label"`
	Type   string `json:"type"`
}

// FactConst is a typed constant.
type FactConst struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// LoadFacts reads a facts file.
func LoadFacts(file string) (*Facts, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(f.Types) == 0 {
		return nil, fmt.Errorf("%s: no types", file)
	}
	return &f, nil
}

// TypeExpr is a parsed type expression of the facts file.
type TypeExpr struct {
	// Kind is one of ptr, slice, map, named, basic.
	Kind string
	Elem *TypeExpr // ptr, slice, map value
	Key  *TypeExpr // map key
	Name string    // named: qualified name; basic: Go name
}

// ParseTypeExpr parses "*core/v1.PodSpec", "[]string",
// "map[core/v1.ResourceName]resource.Quantity" and the like.
func ParseTypeExpr(s string) (*TypeExpr, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("empty type")
	case strings.HasPrefix(s, "*"):
		e, err := ParseTypeExpr(s[1:])
		return &TypeExpr{Kind: "ptr", Elem: e}, err
	case strings.HasPrefix(s, "[]"):
		e, err := ParseTypeExpr(s[2:])
		return &TypeExpr{Kind: "slice", Elem: e}, err
	case strings.HasPrefix(s, "map["):
		depth := 0
		for i := 3; i < len(s); i++ {
			switch s[i] {
			case '[':
				depth++
			case ']':
				depth--
				if depth == 0 {
					k, err := ParseTypeExpr(s[4:i])
					if err != nil {
						return nil, err
					}
					v, err := ParseTypeExpr(s[i+1:])
					return &TypeExpr{Kind: "map", Key: k, Elem: v}, err
				}
			}
		}
		return nil, fmt.Errorf("type %q: unbalanced brackets", s)
	case strings.Contains(s, "."):
		return &TypeExpr{Kind: "named", Name: s}, nil
	}
	switch s {
	case "string", "bool", "int32", "int64", "uint8", "float64":
		return &TypeExpr{Kind: "basic", Name: s}, nil
	}
	return nil, fmt.Errorf("type %q: unknown", s)
}

// protoTag is a parsed `protobuf:"..."` tag.
type protoTag struct {
	wire   string // varint, bytes, fixed64, ...
	number int
	label  string // opt, rep, req
}

func parseProtoTag(tag string) (protoTag, bool, error) {
	v, ok := reflect.StructTag(tag).Lookup("protobuf")
	if !ok {
		return protoTag{}, false, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) < 3 {
		return protoTag{}, false, fmt.Errorf("protobuf tag %q: too short", v)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return protoTag{}, false, fmt.Errorf("protobuf tag %q: %w", v, err)
	}
	return protoTag{wire: parts[0], number: n, label: parts[2]}, true, nil
}
