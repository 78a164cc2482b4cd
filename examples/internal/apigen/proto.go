package apigen

import (
	"fmt"
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
			switch t.Ext.codec {
			case codecNone:
				return codec{}, fmt.Errorf("%s has no protobuf form", t.F.QName())
			case codecString:
				return codec{kind: "string", goT: f.typeName(t)}, nil
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
