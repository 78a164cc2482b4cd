package rest

import (
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

// gear is a widget with hand-written protobuf methods, the shape of
// Kubernetes' generated code, so the handler finds its codec on the type:
//
//	message Gear { ObjectMeta metadata = 1; Spec spec = 2; Status status = 3; }
//	message ObjectMeta { string name = 1; string generateName = 2; string namespace = 3; string uid = 5;
//	  string resourceVersion = 6; int64 generation = 7; Time creationTimestamp = 8; map<string,string> labels = 11; }
//	message Time { int64 seconds = 1; int32 nanos = 2; }
//	message Spec { int64 size = 1; string color = 2; string data = 3; }
//	message Status { int64 count = 1; string phase = 2; }
type gear storetest.Widget

var gearResource = store.Resource{Name: "gears", APIVersion: "test.setpoint.dev/v1", Kind: "Gear", Namespaced: true}

// gearMarshals counts encodings, to check that a watch encodes each event
// once for every watcher.
var gearMarshals atomic.Int64

func (g *gear) encode() []byte {
	var b []byte
	var meta []byte
	m := &g.ObjectMeta
	meta = pbwire.AppendString(meta, 1, m.Name)
	meta = pbwire.AppendString(meta, 2, m.GenerateName)
	meta = pbwire.AppendString(meta, 3, m.Namespace)
	meta = pbwire.AppendString(meta, 5, m.UID)
	meta = pbwire.AppendString(meta, 6, m.ResourceVersion)
	if m.Generation != 0 {
		meta = pbwire.AppendVarint(meta, 7, uint64(m.Generation))
	}
	if !m.CreationTimestamp.IsZero() {
		var ts []byte
		ts = pbwire.AppendVarint(ts, 1, uint64(m.CreationTimestamp.Unix()))
		meta = pbwire.AppendBytes(meta, 8, ts)
	}
	keys := make([]string, 0, len(m.Labels))
	for k := range m.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var e []byte
		e = pbwire.AppendStringAlways(e, 1, k)
		e = pbwire.AppendStringAlways(e, 2, m.Labels[k])
		meta = pbwire.AppendBytes(meta, 11, e)
	}
	b = pbwire.AppendBytes(b, 1, meta)
	var spec []byte
	spec = pbwire.AppendVarint(spec, 1, uint64(int64(g.Spec.Size)))
	spec = pbwire.AppendString(spec, 2, g.Spec.Color)
	spec = pbwire.AppendString(spec, 3, g.Spec.Data)
	b = pbwire.AppendBytes(b, 2, spec)
	var st []byte
	st = pbwire.AppendVarint(st, 1, uint64(int64(g.Status.Count)))
	st = pbwire.AppendString(st, 2, g.Status.Phase)
	return pbwire.AppendBytes(b, 3, st)
}

func (g *gear) Size() int { return len(g.encode()) }

func (g *gear) MarshalToSizedBuffer(b []byte) (int, error) {
	gearMarshals.Add(1)
	enc := g.encode()
	if len(b) < len(enc) {
		return 0, errors.New("gear: buffer too small")
	}
	return copy(b[len(b)-len(enc):], enc), nil
}

func (g *gear) Unmarshal(b []byte) error {
	return pbwire.Range(b, func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			m, err := pbwire.Message("metadata", f)
			if err != nil {
				return err
			}
			return g.unmarshalMeta(m)
		case 2:
			m, err := pbwire.Message("spec", f)
			if err != nil {
				return err
			}
			return pbwire.Range(m, func(f pbwire.Field) error {
				var err error
				switch f.Num {
				case 1:
					var v uint64
					v, err = pbwire.Varint("spec.size", f)
					g.Spec.Size = int(int64(v))
				case 2:
					g.Spec.Color, err = pbwire.String("spec.color", f)
				case 3:
					g.Spec.Data, err = pbwire.String("spec.data", f)
				}
				return err
			})
		case 3:
			m, err := pbwire.Message("status", f)
			if err != nil {
				return err
			}
			return pbwire.Range(m, func(f pbwire.Field) error {
				var err error
				switch f.Num {
				case 1:
					var v uint64
					v, err = pbwire.Varint("status.count", f)
					g.Status.Count = int(int64(v))
				case 2:
					g.Status.Phase, err = pbwire.String("status.phase", f)
				}
				return err
			})
		}
		return nil
	})
}

func (g *gear) unmarshalMeta(b []byte) error {
	m := &g.ObjectMeta
	return pbwire.Range(b, func(f pbwire.Field) error {
		var err error
		switch f.Num {
		case 1:
			m.Name, err = pbwire.String("metadata.name", f)
		case 2:
			m.GenerateName, err = pbwire.String("metadata.generateName", f)
		case 3:
			m.Namespace, err = pbwire.String("metadata.namespace", f)
		case 5:
			m.UID, err = pbwire.String("metadata.uid", f)
		case 6:
			m.ResourceVersion, err = pbwire.String("metadata.resourceVersion", f)
		case 7:
			var v uint64
			v, err = pbwire.Varint("metadata.generation", f)
			m.Generation = int64(v)
		case 8:
			var ts []byte
			if ts, err = pbwire.Message("metadata.creationTimestamp", f); err != nil {
				return err
			}
			err = pbwire.Range(ts, func(f pbwire.Field) error {
				if f.Num == 1 && f.Type == protowire.VarintType {
					m.CreationTimestamp = store.NewTime(time.Unix(int64(f.Varint), 0))
				}
				return nil
			})
		case 11:
			var e []byte
			if e, err = pbwire.Message("metadata.labels", f); err != nil {
				return err
			}
			var k, v string
			err = pbwire.Range(e, func(f pbwire.Field) error {
				var err error
				switch f.Num {
				case 1:
					k, err = pbwire.String("metadata.labels key", f)
				case 2:
					v, err = pbwire.String("metadata.labels value", f)
				}
				return err
			})
			if m.Labels == nil {
				m.Labels = map[string]string{}
			}
			m.Labels[k] = v
		}
		if err != nil {
			return fmt.Errorf("gear: %w", err)
		}
		return nil
	})
}

// widgetProtobuf is the same encoding as a ProtobufCodec, for Widget,
// which cannot carry methods of this package.
var widgetProtobuf = &ProtobufCodec[*widget]{
	Size:                 func(w *widget) int { return (*gear)(w).Size() },
	MarshalToSizedBuffer: func(b []byte, w *widget) (int, error) { return (*gear)(w).MarshalToSizedBuffer(b) },
	Unmarshal:            func(b []byte, w *widget) error { return (*gear)(w).Unmarshal(b) },
}
