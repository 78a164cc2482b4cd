package apigen

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Descriptions are our own one-line descriptions of every type and field,
// keyed "core/v1.Pod" and "core/v1.Pod.spec" (the JSON name, or the Go name
// of an inlined field). They become the doc comments of the generated Go
// code and the descriptions of the OpenAPI schemas.
type Descriptions map[string]string

// LoadDescriptions reads a descriptions file: "[core/v1]" lines start a
// package's section; other lines are "Type: text" or "Type.field: text";
// blank lines and lines starting with # are skipped.
func LoadDescriptions(file string) (Descriptions, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	d := Descriptions{}
	pkg := ""
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			pkg = line[1 : len(line)-1]
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok || pkg == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s:%d: want \"Type: text\" or \"Type.field: text\" inside a [package] section", file, n)
		}
		key := pkg + "." + k
		if _, dup := d[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s described twice", file, n, key)
		}
		d[key] = strings.TrimSpace(v)
	}
	return d, sc.Err()
}

// isList says t is a Kubernetes list kind: TypeMeta, ListMeta and Items.
func isList(t *Type) bool {
	if !strings.HasSuffix(t.GoName, "List") || t.F.Kind != "struct" {
		return false
	}
	has := map[string]bool{}
	for _, f := range t.Fields {
		has[f.GoName] = true
	}
	return has["ListMeta"] && has["Items"] && len(t.Fields) == 3
}

// describe attaches a description to every generated type and field, and
// fails naming each one that has none, and each description that matches
// nothing.
func (m *Model) describe(d Descriptions) error {
	used := map[string]bool{}
	var missing []string
	lookup := func(key, derived string) string {
		if v, ok := d[key]; ok {
			used[key] = true
			return v
		}
		if derived != "" {
			return derived
		}
		missing = append(missing, key)
		return ""
	}
	var all []*Type
	for _, t := range m.types {
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].F.QName() < all[j].F.QName() })
	for _, t := range all {
		if t.Ext != nil && t.Ext.codec == codecNone {
			continue // TypeMeta: inlined, documented by the library
		}
		q := t.F.QName()
		list := isList(t)
		item := strings.TrimSuffix(t.GoName, "List")
		derived := ""
		if list {
			derived = "a list of " + item + " objects"
		}
		t.Desc = lookup(q, derived)
		for _, fl := range t.Fields {
			derived := ""
			switch {
			case fl.GoName == "TypeMeta" || fl.Dropped:
				continue // documented by the library; or not in our types
			case list && fl.GoName == "ListMeta":
				derived = "the list's metadata: the resource version it was read at and the token for the next page"
			case list && fl.GoName == "Items":
				derived = "the " + item + " objects in the list"
			case fl.GoName == "ObjectMeta" && fl.JSON == "metadata":
				derived = "the object's metadata: name, namespace, labels, annotations and the fields the server sets"
			}
			fl.Desc = lookup(q+"."+fl.Label(), derived)
		}
	}
	var unused []string
	for k := range d {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(unused)
	var msg []string
	if len(missing) > 0 {
		msg = append(msg, fmt.Sprintf("%d types and fields have no description:\n\t%s", len(missing), strings.Join(missing, "\n\t")))
	}
	if len(unused) > 0 {
		msg = append(msg, fmt.Sprintf("%d descriptions match no type or field:\n\t%s", len(unused), strings.Join(unused, "\n\t")))
	}
	if len(msg) > 0 {
		return fmt.Errorf("apigen: %s", strings.Join(msg, "\n"))
	}
	return nil
}
