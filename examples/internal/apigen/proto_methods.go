package apigen

import "fmt"

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
	if err := f.emitSizeBody(t, fields); err != nil {
		return err
	}
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
	if err := f.emitPutBody(t, fields); err != nil {
		return err
	}
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
	if err := f.emitSizeBody(t, fields); err != nil {
		return err
	}
	f.p("")
	f.p("// Marshal%s writes the protobuf encoding of m to the end of dAtA and", name)
	f.p("// returns the number of bytes written.")
	f.p("func Marshal%s(dAtA []byte, m *%s) (int, error) {", name, goT)
	if err := f.emitPutBody(t, fields); err != nil {
		return err
	}
	f.p("")
	f.p("// Unmarshal%s decodes the protobuf encoding of a %s into m.", name, t.F.ProtoMessage)
	f.p("func Unmarshal%s(dAtA []byte, m *%s) error {", name, goT)
	return f.emitUnmarshalBody(t.F.ProtoMessage, fields, "m.")
}

// emitSizeBody writes the statements of a Size function after its
// signature, through its closing brace.
func (f *file) emitSizeBody(t *Type, fields []*Field) error {
	f.p("var l int")
	f.p("_ = l")
	for _, fl := range fields {
		if err := f.emitSize(fl, "m."+fl.GoName); err != nil {
			return fmt.Errorf("%s.%s: %w", t.F.QName(), fl.GoName, err)
		}
	}
	f.p("return n")
	f.p("}")
	return nil
}

// emitPutBody writes the statements of a MarshalToSizedBuffer function after
// its signature, through its closing brace: fields last to first, so that
// the bytes come out in field-number order.
func (f *file) emitPutBody(t *Type, fields []*Field) error {
	f.p("i := len(dAtA)")
	for j := len(fields) - 1; j >= 0; j-- {
		fl := fields[j]
		if err := f.emitPut(fl, "m."+fl.GoName); err != nil {
			return fmt.Errorf("%s.%s: %w", t.F.QName(), fl.GoName, err)
		}
	}
	f.p("return len(dAtA) - i, nil")
	f.p("}")
	return nil
}
