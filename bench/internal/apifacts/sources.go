package apifacts

// Readers of the sources the facts come from: the .proto files, the
// OpenAPI documents, the Go sources (for constants), and the matching of
// them onto the reflected Go types.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// pkgDir is the source directory of a Go package.
func pkgDir(goPath string) (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", goPath).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w", goPath, err)
	}
	return strings.TrimSpace(string(out)), nil
}

var (
	reMessage = regexp.MustCompile(`^message (\w+) \{$`)
	reField   = regexp.MustCompile(`^\s+(optional|repeated) ([\w.]+) (\w+) = (\d+);$`)
	reMap     = regexp.MustCompile(`^\s+map<([\w.]+), ([\w.]+)> (\w+) = (\d+);$`)
	rePackage = regexp.MustCompile(`^package ([\w.]+);$`)
)

// parseProto reads the messages of one generated.proto file.
func parseProto(file string) (string, map[string][]*PF, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	msgs := map[string][]*PF{}
	var pkg, cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "//") {
			continue
		}
		if m := rePackage.FindStringSubmatch(line); m != nil {
			pkg = m[1]
		} else if m := reMessage.FindStringSubmatch(line); m != nil {
			cur = m[1]
			msgs[cur] = []*PF{}
		} else if line == "}" {
			cur = ""
		} else if m := reField.FindStringSubmatch(line); m != nil && cur != "" {
			n, _ := strconv.Atoi(m[4])
			msgs[cur] = append(msgs[cur], &PF{Name: m[3], Number: n, Label: m[1], Type: m[2]})
		} else if m := reMap.FindStringSubmatch(line); m != nil && cur != "" {
			n, _ := strconv.Atoi(m[4])
			msgs[cur] = append(msgs[cur], &PF{Name: m[3], Number: n, Label: "map", Type: "map<" + m[1] + "," + m[2] + ">"})
		} else if strings.TrimSpace(line) != "" && cur != "" && !strings.HasPrefix(strings.TrimSpace(line), "//") {
			return "", nil, fmt.Errorf("%s: cannot parse %q", file, line)
		}
	}
	return pkg, msgs, sc.Err()
}

// stripDescriptions returns v without any "description" key, recursively.
func stripDescriptions(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "description" {
				continue
			}
			out[k] = stripDescriptions(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripDescriptions(e)
		}
		return out
	}
	return v
}

// loadOpenAPI reads every schema of the OpenAPI v3 documents of the groups.
func loadOpenAPI(dir string) (map[string]map[string]any, error) {
	files, err := filepath.Glob(filepath.Join(dir, "api*_openapi.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	all := map[string]map[string]any{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Components struct {
				Schemas map[string]map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for k, v := range doc.Components.Schemas {
			if _, ok := all[k]; !ok {
				all[k] = v
			}
		}
	}
	return all, nil
}

// consts reads the typed constants declared in a package's sources.
func consts(dir string) (map[string][]*Const, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := map[string][]*Const{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				id, ok := vs.Type.(*ast.Ident)
				if !ok || len(vs.Values) != len(vs.Names) {
					continue
				}
				for i, n := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING || !n.IsExported() {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						return nil, err
					}
					out[id.Name] = append(out[id.Name], &Const{Name: n.Name, Value: v})
				}
			}
		}
	}
	return out, nil
}

// addOpenAPI copies the type's OpenAPI facts onto it and its fields.
func addOpenAPI(t *Type, schemas map[string]map[string]any) error {
	if t.OpenAPIName == "" {
		return nil
	}
	s, ok := schemas[t.OpenAPIName]
	if !ok {
		return nil // metrics and apidiscovery are not in the published documents
	}
	top := map[string]any{}
	for k, v := range s {
		switch k {
		case "description", "properties":
		case "x-kubernetes-group-version-kind":
			for _, g := range v.([]any) {
				m := map[string]string{}
				for k2, v2 := range g.(map[string]any) {
					m[k2] = v2.(string)
				}
				t.GVK = append(t.GVK, m)
			}
		default:
			top[k] = stripDescriptions(v)
		}
	}
	if len(top) > 0 {
		t.Schema = top
	}
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if r, ok := s["required"].([]any); ok {
		for _, n := range r {
			required[n.(string)] = true
		}
	}
	for _, f := range t.Fields {
		jn := jsonName(f.Tag)
		if jn == "" || jn == "-" {
			continue
		}
		p, ok := props[jn]
		if !ok {
			return fmt.Errorf("%s.%s: json %q not in OpenAPI schema %s", t.Pkg, t.Name, jn, t.OpenAPIName)
		}
		f.Schema = stripDescriptions(p).(map[string]any)
		f.Required = required[jn]
	}
	return nil
}

func jsonName(tag string) string {
	j := reflect.StructTag(tag).Get("json")
	n, _, _ := strings.Cut(j, ",")
	return n
}

// matchProto records each field's .proto number, checking that the Go tag
// agrees with the .proto file.
func matchProto(t *Type) error {
	if t.Kind != "struct" || t.ProtoMessage == "" {
		return nil
	}
	byName := map[string]*PF{}
	for _, pf := range t.ProtoFields {
		byName[pf.Name] = pf
	}
	for _, f := range t.Fields {
		tag := reflect.StructTag(f.Tag).Get("protobuf")
		if tag == "" {
			continue
		}
		parts := strings.Split(tag, ",")
		num, err := strconv.Atoi(parts[1])
		if err != nil {
			return fmt.Errorf("%s.%s: bad protobuf tag %q", t.Name, f.Name, tag)
		}
		var name string
		for _, p := range parts {
			if v, ok := strings.CutPrefix(p, "name="); ok {
				name = v
			}
		}
		pf, ok := byName[name]
		if name == "" {
			// an embedded message (EphemeralContainerCommon) has no name in its tag
			for _, c := range t.ProtoFields {
				if c.Number == num {
					pf, ok = c, true
				}
			}
		}
		if !ok {
			return fmt.Errorf("%s.%s: proto field %q not in message %s", t.Name, f.Name, name, t.ProtoMessage)
		}
		if pf.Number != num {
			return fmt.Errorf("%s.%s: tag number %d, .proto number %d", t.Name, f.Name, num, pf.Number)
		}
		f.ProtoNumber, f.ProtoType, f.ProtoLabel = pf.Number, pf.Type, pf.Label
	}
	return nil
}
