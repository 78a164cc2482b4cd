package apigen

import (
	"fmt"
	"sort"
)

// fields -------------------------------------------------------------------

// protoFields returns the fields of t that are in protobuf, by number.
func protoFields(t *Type) []*Field {
	var out []*Field
	for _, fl := range t.Fields {
		if fl.Number > 0 {
			out = append(out, fl)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// shape splits a field type into its container and element.
func (f *file) shape(e *TypeExpr) (string, *TypeExpr, error) {
	switch e.Kind {
	case "ptr":
		if e.Elem.Kind == "slice" || e.Elem.Kind == "map" || e.Elem.Kind == "ptr" {
			return "", nil, fmt.Errorf("pointer to %s", e.Elem.Kind)
		}
		return "ptr", e.Elem, nil
	case "slice":
		if e.Elem.Kind == "basic" && e.Elem.Name == "uint8" {
			return "value", e, nil
		}
		if e.Elem.Kind != "basic" && e.Elem.Kind != "named" {
			return "", nil, fmt.Errorf("slice of %s", e.Elem.Kind)
		}
		return "slice", e.Elem, nil
	case "map":
		return "map", e, nil
	case "named":
		t := f.m.named(e)
		if t.Ext == nil && t.F.Kind == "map" {
			return "map", e, nil
		}
	}
	return "value", e, nil
}

// mapParts returns the key and value of a map or named map type.
func (f *file) mapParts(e *TypeExpr) (*TypeExpr, *TypeExpr, error) {
	if e.Kind == "named" {
		u, err := ParseTypeExpr(f.m.named(e).F.Underlying)
		if err != nil {
			return nil, nil, err
		}
		if err := f.m.resolve(u); err != nil {
			return nil, nil, err
		}
		e = u
	}
	if !f.m.stringKind(e.Key) {
		return nil, nil, fmt.Errorf("map key is not a string")
	}
	return e.Key, e.Elem, nil
}

// mapCodec returns the key type and the value codec of a map field.
func (f *file) mapCodec(fl *Field) (*TypeExpr, codec, error) {
	ke, ve, err := f.mapParts(fl.Type)
	if err != nil {
		return nil, codec{}, err
	}
	vc, err := f.valueCodec(ve)
	vc.expr = ve
	return ke, vc, err
}

// goType is the Go type of the codec's values.
func (c codec) goType(f *file) string { return f.goType(c.expr) }

// fieldCodec returns a field's container shape and element codec.
func (f *file) fieldCodec(fl *Field) (string, codec, error) {
	sh, el, err := f.shape(fl.Type)
	if err != nil {
		return "", codec{}, err
	}
	if sh == "map" {
		return sh, codec{}, nil
	}
	c, err := f.valueCodec(el)
	return sh, c, err
}

func keySize(num, wire int) int { return len(keyBytes(num, wire)) }

// emitSize writes the statements adding field fl (accessed as acc) to n.
func (f *file) emitSize(fl *Field, acc string) error {
	if fl.Dropped {
		f.p("n += %d // %s: always empty", keySize(fl.Number, wireBytes)+1, fl.Label())
		return nil
	}
	sh, c, err := f.fieldCodec(fl)
	if err != nil {
		return err
	}
	k := keySize(fl.Number, scalarWire(c))
	switch sh {
	case "value":
		if c.kind == "message" {
			f.p("l = %s", f.messageSize(c, acc, "&"+acc))
			f.p("n += %d + l + %sSizeVarint(uint64(l))", k, f.pb())
		} else if c.kind == "bytes" {
			f.p("if %s != nil {", acc)
			f.sizeScalar(c, acc, k)
			f.p("}")
		} else {
			f.sizeScalar(c, acc, k)
		}
	case "ptr":
		f.p("if %s != nil {", acc)
		if c.kind == "message" {
			f.p("l = %s", f.messageSize(c, "(*"+acc+")", acc))
			f.p("n += %d + l + %sSizeVarint(uint64(l))", k, f.pb())
		} else {
			f.sizeScalar(c, "(*"+acc+")", k)
		}
		f.p("}")
	case "slice":
		f.p("for j := range %s {", acc)
		el := acc + "[j]"
		if c.kind == "message" {
			f.p("l = %s", f.messageSize(c, el, "&"+el))
			f.p("n += %d + l + %sSizeVarint(uint64(l))", k, f.pb())
		} else {
			f.sizeScalar(c, el, k)
		}
		f.p("}")
	case "map":
		_, vc, err := f.mapCodec(fl)
		if err != nil {
			return err
		}
		f.p("for k, v := range %s {", acc)
		f.p("_ = v")
		f.p("e := 1 + len(k) + %sSizeVarint(uint64(len(k)))", f.pb())
		switch vc.kind {
		case "string":
			f.p("e += 1 + len(v) + %sSizeVarint(uint64(len(v)))", f.pb())
		case "bytes":
			f.p("if v != nil {")
			f.p("e += 1 + len(v) + %sSizeVarint(uint64(len(v)))", f.pb())
			f.p("}")
		case "message":
			f.p("l = %s", f.messageSize(vc, "v", "&v"))
			f.p("e += 1 + l + %sSizeVarint(uint64(l))", f.pb())
		default:
			return fmt.Errorf("map value %s", vc.kind)
		}
		f.p("n += %d + e + %sSizeVarint(uint64(e))", k, f.pb())
		f.p("}")
	}
	return nil
}

// emitPut writes the statements that write field fl backwards.
func (f *file) emitPut(fl *Field, acc string) error {
	if fl.Dropped {
		f.p("i-- // %s: always empty", fl.Label())
		f.p("dAtA[i] = 0")
		f.putKey(fl.Number, wireBytes)
		return nil
	}
	sh, c, err := f.fieldCodec(fl)
	if err != nil {
		return err
	}
	putMsg := func(v, ptr string) {
		f.p("{")
		f.p("start := i")
		f.putMessage(c, v, ptr)
		f.p("i = %sPutVarint(dAtA, i, uint64(start-i))", f.pb())
		f.putKey(fl.Number, wireBytes)
		f.p("}")
	}
	switch sh {
	case "value":
		switch c.kind {
		case "message":
			putMsg(acc, "&"+acc)
		case "bytes":
			f.p("if %s != nil {", acc)
			f.putScalar(c, acc, fl.Number)
			f.p("}")
		default:
			f.putScalar(c, acc, fl.Number)
		}
	case "ptr":
		f.p("if %s != nil {", acc)
		if c.kind == "message" {
			putMsg("(*"+acc+")", acc)
		} else {
			f.putScalar(c, "(*"+acc+")", fl.Number)
		}
		f.p("}")
	case "slice":
		f.p("for j := len(%s) - 1; j >= 0; j-- {", acc)
		el := acc + "[j]"
		if c.kind == "message" {
			putMsg(el, "&"+el)
		} else {
			f.putScalar(c, el, fl.Number)
		}
		f.p("}")
	case "map":
		ke, vc, err := f.mapCodec(fl)
		if err != nil {
			return err
		}
		f.p("if len(%s) > 0 {", acc)
		f.p("keys := make([]string, 0, len(%s))", acc)
		f.p("for k := range %s {", acc)
		f.p("keys = append(keys, string(k))")
		f.p("}")
		f.p("%sStrings(keys)", f.qual("sort"))
		f.p("for j := len(keys) - 1; j >= 0; j-- {")
		f.p("v := %s[%s(keys[j])]", acc, f.goType(ke))
		f.p("base := i")
		switch vc.kind {
		case "string":
			f.putScalar(vc, "v", 2)
		case "bytes":
			f.p("if v != nil {")
			f.putScalar(vc, "v", 2)
			f.p("}")
		case "message":
			f.p("{")
			f.p("start := i")
			f.putMessage(vc, "v", "&v")
			f.p("i = %sPutVarint(dAtA, i, uint64(start-i))", f.pb())
			f.putKey(2, wireBytes)
			f.p("}")
		}
		f.putScalar(codec{kind: "string"}, "keys[j]", 1)
		f.p("i = %sPutVarint(dAtA, i, uint64(base-i))", f.pb())
		f.putKey(fl.Number, wireBytes)
		f.p("}")
		f.p("}")
	}
	return nil
}

// emitRead writes the case body that decodes field fl (its key read, its
// wire type in w) into acc.
func (f *file) emitRead(fl *Field, acc, msg string) error {
	sh, c, err := f.fieldCodec(fl)
	if err != nil {
		return err
	}
	label := fl.Label()
	wrapWire := fmt.Sprintf("return %sWrap(%q, %q, %sWireTypeError(w))", f.pb(), msg, label, f.pb())
	readBytes := func() {
		f.p("s, e, err := %sBytes(dAtA, i)", f.pb())
		f.p("if err != nil {")
		f.p("return %sWrap(%q, %q, err)", f.pb(), msg, label)
		f.p("}")
	}
	if sh == "map" {
		return f.emitReadMap(fl, acc, msg)
	}
	if c.kind == "message" {
		f.p("if w != %d {", wireBytes)
		f.p("%s", wrapWire)
		f.p("}")
		readBytes()
		switch sh {
		case "value":
			f.readMessage(c, "dAtA[s:e]", "(&"+acc+")", msg, label)
		case "ptr":
			f.p("if %s == nil {", acc)
			f.p("%s = new(%s)", acc, f.typeName(c.t))
			f.p("}")
			f.readMessage(c, "dAtA[s:e]", acc, msg, label)
		case "slice":
			f.p("%s = append(%s, %s{})", acc, acc, f.typeName(c.t))
			f.readMessage(c, "dAtA[s:e]", "(&"+acc+"["+"len("+acc+")-1])", msg, label)
		}
		f.p("i = e")
		return nil
	}
	w := scalarWire(c)
	if sh == "slice" && w == wireVarint {
		// repeated varints come packed or unpacked
		f.p("if w == %d {", wireBytes)
		readBytes()
		f.p("for j := s; j < e; {")
		f.p("x, next, err := %sVarint(dAtA[:e], j)", f.pb())
		f.p("if err != nil {")
		f.p("return %sWrap(%q, %q, err)", f.pb(), msg, label)
		f.p("}")
		f.p("j = next")
		f.p("%s = append(%s, %s(x))", acc, acc, c.goT)
		f.p("}")
		f.p("i = e")
		f.p("break")
		f.p("}")
	}
	f.p("if w != %d {", w)
	f.p("%s", wrapWire)
	f.p("}")
	f.readScalar(c, "v", msg, label)
	switch sh {
	case "value":
		f.p("%s = v", acc)
	case "ptr":
		f.p("%s = &v", acc)
	case "slice":
		f.p("%s = append(%s, v)", acc, acc)
	}
	return nil
}

func (f *file) emitReadMap(fl *Field, acc, msg string) error {
	ke, vc, err := f.mapCodec(fl)
	if err != nil {
		return err
	}
	label := fl.Label()
	wrap := func(e string) string { return fmt.Sprintf("return %sWrap(%q, %q, %s)", f.pb(), msg, label, e) }
	f.p("if w != %d {", wireBytes)
	f.p("%s", wrap(f.pb()+"WireTypeError(w)"))
	f.p("}")
	f.p("s, e, err := %sBytes(dAtA, i)", f.pb())
	f.p("if err != nil {")
	f.p("%s", wrap("err"))
	f.p("}")
	f.p("entry := dAtA[s:e]")
	f.p("var mk %s", f.goType(ke))
	if vc.kind == "bytes" {
		f.p("mv := []byte{}")
	} else {
		f.p("var mv %s", vc.goType(f))
	}
	f.p("for j := 0; j < len(entry); {")
	f.p("num, w, next, err := %sKey(entry, j)", f.pb())
	f.p("if err != nil {")
	f.p("%s", wrap("err"))
	f.p("}")
	f.p("j = next")
	f.p("switch {")
	f.p("case num == 1 && w == %d:", wireBytes)
	f.p("s, e, err := %sBytes(entry, j)", f.pb())
	f.p("if err != nil {")
	f.p("%s", wrap("err"))
	f.p("}")
	f.p("mk = %s(entry[s:e])", f.goType(ke))
	f.p("j = e")
	f.p("case num == 2 && w == %d:", wireBytes)
	f.p("s, e, err := %sBytes(entry, j)", f.pb())
	f.p("if err != nil {")
	f.p("%s", wrap("err"))
	f.p("}")
	switch vc.kind {
	case "string":
		f.p("mv = %s(entry[s:e])", vc.goT)
	case "bytes":
		f.p("mv = append([]byte{}, entry[s:e]...)")
	case "message":
		f.readMessage(vc, "entry[s:e]", "(&mv)", msg, label)
	default:
		return fmt.Errorf("map value %s", vc.kind)
	}
	f.p("j = e")
	f.p("case num == 1 || num == 2:")
	f.p("%s", wrap(f.pb()+"WireTypeError(w)"))
	f.p("default:")
	f.p("if j, err = %sSkip(entry, j, w); err != nil {", f.pb())
	f.p("%s", wrap("err"))
	f.p("}")
	f.p("}")
	f.p("}")
	f.p("if %s == nil {", acc)
	f.p("%s = make(%s, 1)", acc, f.goType(fl.Type))
	f.p("}")
	f.p("%s[mk] = mv", acc)
	f.p("i = e")
	return nil
}
