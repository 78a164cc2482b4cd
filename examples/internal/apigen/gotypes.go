package apigen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// sentence makes a description a Go doc sentence about name.
func sentence(name, desc string) string {
	s := name + " is " + desc
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Capitalize makes a description an OpenAPI sentence.
func Capitalize(desc string) string {
	if desc == "" {
		return desc
	}
	r := []rune(desc)
	r[0] = unicode.ToUpper(r[0])
	s := string(r)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// comment writes text as a // comment wrapped near 76 columns.
func (f *file) comment(text string) {
	line := "//"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 78 && line != "//" {
			f.p("%s", line)
			line = "//"
		}
		line += " " + w
	}
	f.p("%s", line)
}

// emitType writes the declaration of a generated type and its constants.
func (f *file) emitType(t *Type) error {
	f.comment(sentence(t.GoName, t.Desc))
	switch t.F.Kind {
	case "struct":
		f.p("type %s struct {", t.GoName)
		for _, fl := range t.Fields {
			tag := "`" + fl.F.Tag + "`"
			if fl.F.Embedded {
				if fl.Desc != "" {
					f.comment(sentence(fl.GoName, fl.Desc))
				}
				f.p("%s %s", f.goType(fl.Type), tag)
				continue
			}
			f.comment(sentence(fl.GoName, fl.Desc))
			f.p("%s %s %s", fl.GoName, f.goType(fl.Type), tag)
		}
		f.p("}")
	case "string":
		f.p("type %s string", t.GoName)
	case "slice", "map":
		u, err := ParseTypeExpr(t.F.Underlying)
		if err != nil {
			return err
		}
		if err := f.m.resolve(u); err != nil {
			return err
		}
		f.p("type %s %s", t.GoName, f.goType(u))
	default:
		return fmt.Errorf("apigen: %s: cannot declare a %s", t.F.QName(), t.F.Kind)
	}
	f.p("")
	return nil
}

// emitConsts writes the typed constants Kubernetes declares for t's values,
// skipping names already written (done).
func (f *file) emitConsts(t *Type, done map[string]string) error {
	var cs []*FactConst
	for _, c := range t.F.Consts {
		if v, ok := done[c.Name]; ok {
			if v != c.Value {
				return fmt.Errorf("apigen: constant %s is both %q and %q", c.Name, v, c.Value)
			}
			continue
		}
		done[c.Name] = c.Value
		cs = append(cs, c)
	}
	// the constants of an aliased type join the type it maps onto
	if len(cs) == 0 {
		return nil
	}
	f.p("// Values of %s.", t.GoName)
	f.p("const (")
	for _, c := range cs {
		f.comment(fmt.Sprintf("%s is the %s %s.", c.Name, t.GoName, strconv.Quote(c.Value)))
		f.p("%s %s = %s", c.Name, t.GoName, strconv.Quote(c.Value))
	}
	f.p(")")
	f.p("")
	return nil
}
