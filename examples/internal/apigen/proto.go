package apigen

import (
	"fmt"
	"sort"
)

// Wire types.
const (
	wireVarint = 0
	wireBytes  = 2
)

// keyBytes is the varint encoding of a field key.
func keyBytes(num, wire int) []byte {
	v := uint64(num)<<3 | uint64(wire)
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v&0x7f|0x80))
		v >>= 7
	}
	return append(b, byte(v))
}

// putKey writes the statements that write a key backwards.
func (f *file) putKey(num, wire int) {
	b := keyBytes(num, wire)
	if len(b) == 1 {
		f.p("i--")
		f.p("dAtA[i] = %#x", b[0])
		return
	}
	f.p("i -= %d", len(b))
	for j, c := range b {
		if j == 0 {
			f.p("dAtA[i] = %#x", c)
		} else {
			f.p("dAtA[i+%d] = %#x", j, c)
		}
	}
}

// codec describes how one protobuf value of a Go type is sized, written
// and read.
type codec struct {
	kind string // string, bool, int32, int64, bytes, message
	t    *Type  // message: the type
	goT  string // the Go type, as seen from the file
	expr *TypeExpr
}

// valueCodec classifies a non-pointer, non-slice, non-map element.
func (f *file) valueCodec(e *TypeExpr) (codec, error) {
	switch e.Kind {
	case "basic":
		switch e.Name {
		case "string", "bool", "int32", "int64":
			return codec{kind: e.Name, goT: e.Name}, nil
		}
		return codec{}, fmt.Errorf("no protobuf form for %s", e.Name)
	case "slice":
		if e.Elem.Kind == "basic" && e.Elem.Name == "uint8" {
			return codec{kind: "bytes", goT: "[]byte"}, nil
		}
	case "named":
		t := f.m.named(e)
		if t.Ext != nil {
			if t.Ext.codec == codecNone {
				return codec{}, fmt.Errorf("%s has no protobuf form", t.F.QName())
			}
			return codec{kind: "message", t: t}, nil
		}
		switch {
		case t.Message:
			return codec{kind: "message", t: t}, nil
		case t.F.Kind == "string":
			return codec{kind: "string", goT: f.typeName(t)}, nil
		}
	}
	return codec{}, fmt.Errorf("no protobuf form for %v", e.Kind)
}

// sizeOf returns an expression for the body size of message value v (an
// addressable expression) and ptr (a pointer to it).
func (f *file) messageSize(c codec, v, ptr string) string {
	if c.t.Ext == nil {
		return v + ".Size()"
	}
	switch c.t.Ext.codec {
	case codecStruct:
		return fmt.Sprintf("%sSize%s(%s)", f.metapb(), c.t.Ext.name, ptr)
	case codecTime:
		return fmt.Sprintf("%sSizeTimestamp(%s.Time, false)", f.pb(), v)
	case codecMicroTime:
		return fmt.Sprintf("%sSizeTimestamp(%s.Time, true)", f.pb(), v)
	case codecDuration:
		return fmt.Sprintf("%sSizeInt64Message(int64(%s.Duration))", f.pb(), v)
	case codecQuantity:
		return fmt.Sprintf("%sSizeStringMessage(%s.String())", f.pb(), v)
	case codecIntOrString:
		return fmt.Sprintf("%sSizeIntOrString(%s.IsString, %s.IntVal, %s.StrVal)", f.pb(), v, v, v)
	case codecRaw:
		return fmt.Sprintf("%sSizeBytesMessage(%s.Raw)", f.pb(), v)
	}
	panic("apigen: codec " + c.t.Ext.codec)
}

// putMessage writes the statements that write the body of message v
// backwards, ending at i.
func (f *file) putMessage(c codec, v, ptr string) {
	if c.t.Ext == nil || c.t.Ext.codec == codecStruct {
		call := v + ".MarshalToSizedBuffer(dAtA[:i])"
		if c.t.Ext != nil {
			call = fmt.Sprintf("%sMarshal%s(dAtA[:i], %s)", f.metapb(), c.t.Ext.name, ptr)
		}
		f.p("n, err := %s", call)
		f.p("if err != nil {")
		f.p("return 0, err")
		f.p("}")
		f.p("i -= n")
		return
	}
	switch c.t.Ext.codec {
	case codecTime:
		f.p("i = %sPutTimestamp(dAtA, i, %s.Time, false)", f.pb(), v)
	case codecMicroTime:
		f.p("i = %sPutTimestamp(dAtA, i, %s.Time, true)", f.pb(), v)
	case codecDuration:
		f.p("i = %sPutInt64Message(dAtA, i, int64(%s.Duration))", f.pb(), v)
	case codecQuantity:
		f.p("i = %sPutStringMessage(dAtA, i, %s.String())", f.pb(), v)
	case codecIntOrString:
		f.p("i = %sPutIntOrString(dAtA, i, %s.IsString, %s.IntVal, %s.StrVal)", f.pb(), v, v, v)
	case codecRaw:
		f.p("i = %sPutBytesMessage(dAtA, i, %s.Raw)", f.pb(), v)
	}
}

// readMessage writes the statements that decode body b into *ptr,
// returning a wrapped error from the enclosing function.
func (f *file) readMessage(c codec, b, ptr, msg, label string) {
	wrap := func(err string) string {
		return fmt.Sprintf("return %sWrap(%q, %q, %s)", f.pb(), msg, label, err)
	}
	if c.t.Ext == nil || c.t.Ext.codec == codecStruct {
		call := ptr + ".Unmarshal(" + b + ")"
		if c.t.Ext != nil {
			call = fmt.Sprintf("%sUnmarshal%s(%s, %s)", f.metapb(), c.t.Ext.name, b, ptr)
		}
		f.p("if err := %s; err != nil {", call)
		f.p("%s", wrap("err"))
		f.p("}")
		return
	}
	switch c.t.Ext.codec {
	case codecTime, codecMicroTime:
		f.p("t, err := %sTimestamp(%s, %v)", f.pb(), b, c.t.Ext.codec == codecMicroTime)
		f.p("if err != nil {")
		f.p("%s", wrap("err"))
		f.p("}")
		f.p("%s.Time = t", ptr)
	case codecDuration:
		f.p("d, err := %sInt64Message(%s)", f.pb(), b)
		f.p("if err != nil {")
		f.p("%s", wrap("err"))
		f.p("}")
		f.p("%s.Duration = %sDuration(d)", ptr, f.qual("time"))
	case codecQuantity:
		f.p("qs, ok, err := %sStringMessage(%s)", f.pb(), b)
		f.p("if err != nil {")
		f.p("%s", wrap("err"))
		f.p("}")
		f.p("if ok {")
		f.p("q, err := %sParseQuantity(qs)", f.qual(f.apiPath()))
		f.p("if err != nil {")
		f.p("%s", wrap(fmt.Sprintf("%sErrorf(\"%%w: %%v\", %sErrValue, err)", f.qual("fmt"), f.pb())))
		f.p("}")
		f.p("*%s = q", ptr)
		f.p("}")
	case codecIntOrString:
		f.p("isString, iv, sv, err := %sIntOrString(%s)", f.pb(), b)
		f.p("if err != nil {")
		f.p("%s", wrap("err"))
		f.p("}")
		f.p("*%s = %s{IsString: isString, IntVal: iv, StrVal: sv}", ptr, f.typeName(c.t))
	case codecRaw:
		f.p("raw, err := %sBytesMessage(%s)", f.pb(), b)
		f.p("if err != nil {")
		f.p("%s", wrap("err"))
		f.p("}")
		f.p("%s.Raw = raw", ptr)
	}
}

// scalar helpers ---------------------------------------------------------

func (f *file) sizeScalar(c codec, v string, k int) {
	switch c.kind {
	case "string", "bytes":
		f.p("l = len(%s)", v)
		f.p("n += %d + l + %sSizeVarint(uint64(l))", k, f.pb())
	case "bool":
		f.p("n += %d", k+1)
	case "int32", "int64":
		f.p("n += %d + %sSizeVarint(uint64(%s))", k, f.pb(), v)
	}
}

func (f *file) putScalar(c codec, v string, num int) {
	switch c.kind {
	case "string":
		f.p("i -= len(%s)", v)
		f.p("copy(dAtA[i:], %s)", v)
		f.p("i = %sPutVarint(dAtA, i, uint64(len(%s)))", f.pb(), v)
		f.putKey(num, wireBytes)
	case "bytes":
		f.p("i = %sPutBytes(dAtA, i, %s)", f.pb(), v)
		f.putKey(num, wireBytes)
	case "bool":
		f.p("i = %sPutBool(dAtA, i, %s)", f.pb(), v)
		f.putKey(num, wireVarint)
	case "int32", "int64":
		f.p("i = %sPutVarint(dAtA, i, uint64(%s))", f.pb(), v)
		f.putKey(num, wireVarint)
	}
}

func scalarWire(c codec) int {
	if c.kind == "string" || c.kind == "bytes" || c.kind == "message" {
		return wireBytes
	}
	return wireVarint
}

// readScalar writes statements that read one scalar at dAtA[i:] (whose
// wire type has been checked) into a new variable named v, advancing i.
func (f *file) readScalar(c codec, v, msg, label string) {
	wrap := fmt.Sprintf("return %sWrap(%q, %q, err)", f.pb(), msg, label)
	switch c.kind {
	case "string", "bytes":
		f.p("s, e, err := %sBytes(dAtA, i)", f.pb())
		f.p("if err != nil {")
		f.p("%s", wrap)
		f.p("}")
		if c.kind == "string" {
			f.p("%s := %s(dAtA[s:e])", v, c.goT)
		} else {
			f.p("%s := append([]byte{}, dAtA[s:e]...)", v)
		}
		f.p("i = e")
	default:
		f.p("x, next, err := %sVarint(dAtA, i)", f.pb())
		f.p("if err != nil {")
		f.p("%s", wrap)
		f.p("}")
		f.p("i = next")
		switch c.kind {
		case "bool":
			f.p("%s := x != 0", v)
		case "int32":
			f.p("%s := int32(x)", v)
		case "int64":
			f.p("%s := int64(x)", v)
		}
	}
}

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

// methods ------------------------------------------------------------------

// emitMessageMethods writes Size, Marshal, MarshalTo, MarshalToSizedBuffer
// and Unmarshal for generated message t.
func (f *file) emitMessageMethods(t *Type) error {
	name := t.GoName
	if t.F.Kind == "slice" {
		return f.emitSliceMessage(t)
	}
	fields := protoFields(t)
	f.p("// Size returns the length of %s's protobuf encoding.", name)
	f.p("func (m *%s) Size() (n int) {", name)
	f.p("if m == nil {")
	f.p("return 0")
	f.p("}")
	f.p("var l int")
	f.p("_ = l")
	for _, fl := range fields {
		if err := f.emitSize(fl, "m."+fl.GoName); err != nil {
			return fmt.Errorf("%s.%s: %w", t.F.QName(), fl.GoName, err)
		}
	}
	f.p("return n")
	f.p("}")
	f.p("")
	f.p("// Marshal returns %s's protobuf encoding.", name)
	f.p("func (m *%s) Marshal() ([]byte, error) {", name)
	f.p("size := m.Size()")
	f.p("dAtA := make([]byte, size)")
	f.p("n, err := m.MarshalToSizedBuffer(dAtA[:size])")
	f.p("if err != nil {")
	f.p("return nil, err")
	f.p("}")
	f.p("return dAtA[:n], nil")
	f.p("}")
	f.p("")
	f.p("// MarshalTo writes %s's protobuf encoding to the start of dAtA, which", name)
	f.p("// must hold Size() bytes, and returns the number written.")
	f.p("func (m *%s) MarshalTo(dAtA []byte) (int, error) {", name)
	f.p("size := m.Size()")
	f.p("return m.MarshalToSizedBuffer(dAtA[:size])")
	f.p("}")
	f.p("")
	f.p("// MarshalToSizedBuffer writes %s's protobuf encoding to the end of", name)
	f.p("// dAtA and returns the number of bytes written.")
	f.p("func (m *%s) MarshalToSizedBuffer(dAtA []byte) (int, error) {", name)
	f.p("i := len(dAtA)")
	for j := len(fields) - 1; j >= 0; j-- {
		fl := fields[j]
		if err := f.emitPut(fl, "m."+fl.GoName); err != nil {
			return fmt.Errorf("%s.%s: %w", t.F.QName(), fl.GoName, err)
		}
	}
	f.p("return len(dAtA) - i, nil")
	f.p("}")
	f.p("")
	f.p("// Unmarshal decodes a protobuf encoding of %s into m, merging it with", name)
	f.p("// what m holds; unknown fields are skipped.")
	f.p("func (m *%s) Unmarshal(dAtA []byte) error {", name)
	return f.emitUnmarshalBody(t.F.ProtoMessage, fields, "m.")
}

func (f *file) emitUnmarshalBody(msg string, fields []*Field, recv string) error {
	f.p("for i := 0; i < len(dAtA); {")
	f.p("var num int32")
	f.p("var w int")
	f.p("var err error")
	f.p("// a one-byte key of a field numbered 1 to 15, read inline")
	f.p("if c := dAtA[i]; c < 0x80 && c >= 8 && c&7 != %sWireEnd && c&7 <= %sWireFixed32 {", f.pb(), f.pb())
	f.p("num, w = int32(c>>3), int(c&7)")
	f.p("i++")
	f.p("} else if num, w, i, err = %sKey(dAtA, i); err != nil {", f.pb())
	f.p("return %sWrap(%q, \"(key)\", err)", f.pb(), msg)
	f.p("}")
	f.p("switch num {")
	for _, fl := range fields {
		if fl.Dropped {
			continue
		}
		f.p("case %d:", fl.Number)
		acc := recv + fl.GoName
		if fl.GoName == "" {
			acc = recv
		}
		if err := f.emitRead(fl, acc, msg); err != nil {
			return fmt.Errorf("%s.%s: %w", msg, fl.GoName, err)
		}
	}
	f.p("default:")
	f.p("if i, err = %sSkip(dAtA, i, w); err != nil {", f.pb())
	f.p("return %sWrap(%q, %sFieldName(num), err)", f.pb(), msg, f.pb())
	f.p("}")
	f.p("}")
	f.p("}")
	f.p("return nil")
	f.p("}")
	f.p("")
	return nil
}

// emitSliceMessage writes the methods of a named slice sent as a message
// whose field 1 repeats the elements (authentication's ExtraValue).
func (f *file) emitSliceMessage(t *Type) error {
	if len(t.F.ProtoFields) != 1 || t.F.ProtoFields[0].Number != 1 {
		return fmt.Errorf("%s: a slice message must have one field numbered 1", t.F.QName())
	}
	u, err := ParseTypeExpr(t.F.Underlying)
	if err != nil {
		return err
	}
	if err := f.m.resolve(u); err != nil {
		return err
	}
	items := &Field{GoName: "", Type: u, JSON: t.F.ProtoFields[0].Name, Number: 1}
	name := t.GoName
	f.p("// Size returns the length of %s's protobuf encoding.", name)
	f.p("func (m %s) Size() (n int) {", name)
	f.p("var l int")
	f.p("_ = l")
	if err := f.emitSize(items, "m"); err != nil {
		return err
	}
	f.p("return n")
	f.p("}")
	f.p("")
	f.p("// MarshalToSizedBuffer writes %s's protobuf encoding to the end of", name)
	f.p("// dAtA and returns the number of bytes written.")
	f.p("func (m %s) MarshalToSizedBuffer(dAtA []byte) (int, error) {", name)
	f.p("i := len(dAtA)")
	if err := f.emitPut(items, "m"); err != nil {
		return err
	}
	f.p("return len(dAtA) - i, nil")
	f.p("}")
	f.p("")
	f.p("// Unmarshal decodes a protobuf encoding of %s, appending its items to m.", name)
	f.p("func (m *%s) Unmarshal(dAtA []byte) error {", name)
	return f.emitUnmarshalBody(t.F.ProtoMessage, []*Field{items}, "(*m)")
}

// emitLibraryCodec writes Size<T>, Marshal<T> and Unmarshal<T> functions
// for a library struct (store.ObjectMeta and the like).
func (f *file) emitLibraryCodec(t *Type) error {
	name := t.Ext.name
	goT := f.typeName(t)
	fields := protoFields(t)
	f.p("// Size%s returns the length of the protobuf encoding of m, the", name)
	f.p("// Kubernetes message %s.", t.F.ProtoMessage)
	f.p("func Size%s(m *%s) (n int) {", name, goT)
	f.p("var l int")
	f.p("_ = l")
	for _, fl := range fields {
		if err := f.emitSize(fl, "m."+fl.GoName); err != nil {
			return fmt.Errorf("%s.%s: %w", t.F.QName(), fl.GoName, err)
		}
	}
	f.p("return n")
	f.p("}")
	f.p("")
	f.p("// Marshal%s writes the protobuf encoding of m to the end of dAtA and", name)
	f.p("// returns the number of bytes written.")
	f.p("func Marshal%s(dAtA []byte, m *%s) (int, error) {", name, goT)
	f.p("i := len(dAtA)")
	for j := len(fields) - 1; j >= 0; j-- {
		fl := fields[j]
		if err := f.emitPut(fl, "m."+fl.GoName); err != nil {
			return fmt.Errorf("%s.%s: %w", t.F.QName(), fl.GoName, err)
		}
	}
	f.p("return len(dAtA) - i, nil")
	f.p("}")
	f.p("")
	f.p("// Unmarshal%s decodes the protobuf encoding of a %s into m.", name, t.F.ProtoMessage)
	f.p("func Unmarshal%s(dAtA []byte, m *%s) error {", name, goT)
	return f.emitUnmarshalBody(t.F.ProtoMessage, fields, "m.")
}
