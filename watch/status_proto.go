package watch

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
)

// MarshalProtobuf returns s in Kubernetes' protobuf encoding: the envelope
// (apiVersion "v1", kind "Status") around the meta/v1 Status message, with
// the published field numbers:
//
//	message Status { ListMeta metadata = 1; string status = 2; string message = 3; string reason = 4; StatusDetails details = 5; int32 code = 6; }
//	message StatusDetails { string name = 1; string group = 2; string kind = 3; repeated StatusCause causes = 4; int32 retryAfterSeconds = 5; string uid = 6; }
//	message StatusCause { string reason = 1; string message = 2; string field = 3; }
//
// The bytes are those Kubernetes' generated code writes for the same
// Status.
func (s *Status) MarshalProtobuf() []byte {
	return AppendRawEnvelope(nil, "v1", "Status", s.appendProtobuf(nil))
}

func (s *Status) appendProtobuf(b []byte) []byte {
	b = pbwire.AppendListMeta(b, 1, pbwire.ListMeta{ResourceVersion: s.Metadata.ResourceVersion,
		Continue: s.Metadata.Continue, RemainingItemCount: s.Metadata.RemainingItemCount})
	b = pbwire.AppendStringAlways(b, 2, s.Status)
	b = pbwire.AppendStringAlways(b, 3, s.Message)
	b = pbwire.AppendStringAlways(b, 4, s.Reason)
	if d := s.Details; d != nil {
		var db []byte
		db = pbwire.AppendStringAlways(db, 1, d.Name)
		db = pbwire.AppendStringAlways(db, 2, d.Group)
		db = pbwire.AppendStringAlways(db, 3, d.Kind)
		for _, c := range d.Causes {
			var cb []byte
			cb = pbwire.AppendStringAlways(cb, 1, c.Type)
			cb = pbwire.AppendStringAlways(cb, 2, c.Message)
			cb = pbwire.AppendStringAlways(cb, 3, c.Field)
			db = pbwire.AppendBytes(db, 4, cb)
		}
		db = pbwire.AppendVarint(db, 5, uint64(int64(d.RetryAfterSeconds)))
		db = pbwire.AppendStringAlways(db, 6, d.UID)
		b = pbwire.AppendBytes(b, 5, db)
	}
	return pbwire.AppendVarint(b, 6, uint64(int64(s.Code)))
}

// UnmarshalStatusProtobuf parses a Status in Kubernetes' protobuf encoding
// (envelope included; its kind must be Status). Unknown fields are
// skipped; errors wrap ErrMalformed.
func UnmarshalStatusProtobuf(data []byte) (*Status, error) {
	env, err := ParseEnvelope(data)
	if err != nil {
		return nil, err
	}
	if env.Kind != "Status" {
		return nil, fmt.Errorf("%w: protobuf object is a %q, not a Status", ErrMalformed, env.Kind)
	}
	s, err := parseStatus(env.Raw)
	if err != nil {
		return nil, fmt.Errorf("%w: protobuf Status: %w", ErrMalformed, err)
	}
	s.Kind, s.APIVersion = env.Kind, env.APIVersion
	return s, nil
}

func parseStatus(raw []byte) (*Status, error) {
	s := &Status{}
	err := pbwire.Range(raw, func(f pbwire.Field) error {
		var err error
		switch f.Num {
		case 1:
			var m []byte
			if m, err = pbwire.Message("metadata", f); err == nil {
				var lm pbwire.ListMeta
				lm, err = pbwire.ParseListMeta(m)
				s.Metadata = StatusMeta{ResourceVersion: lm.ResourceVersion, Continue: lm.Continue, RemainingItemCount: lm.RemainingItemCount}
			}
		case 2:
			s.Status, err = pbwire.String("status", f)
		case 3:
			s.Message, err = pbwire.String("message", f)
		case 4:
			s.Reason, err = pbwire.String("reason", f)
		case 5:
			var m []byte
			if m, err = pbwire.Message("details", f); err == nil {
				s.Details, err = parseStatusDetails(m)
			}
		case 6:
			s.Code, err = int32Field("code", f)
		}
		return err
	})
	return s, err
}

func parseStatusDetails(msg []byte) (*StatusDetails, error) {
	d := &StatusDetails{}
	err := pbwire.Range(msg, func(f pbwire.Field) error {
		var err error
		switch f.Num {
		case 1:
			d.Name, err = pbwire.String("details.name", f)
		case 2:
			d.Group, err = pbwire.String("details.group", f)
		case 3:
			d.Kind, err = pbwire.String("details.kind", f)
		case 4:
			var m []byte
			if m, err = pbwire.Message("details.causes", f); err != nil {
				return err
			}
			var c StatusCause
			err = pbwire.Range(m, func(f pbwire.Field) error {
				var err error
				switch f.Num {
				case 1:
					c.Type, err = pbwire.String("details.causes.reason", f)
				case 2:
					c.Message, err = pbwire.String("details.causes.message", f)
				case 3:
					c.Field, err = pbwire.String("details.causes.field", f)
				}
				return err
			})
			d.Causes = append(d.Causes, c)
		case 5:
			d.RetryAfterSeconds, err = int32Field("details.retryAfterSeconds", f)
		case 6:
			d.UID, err = pbwire.String("details.uid", f)
		}
		return err
	})
	return d, err
}

func int32Field(name string, f pbwire.Field) (int32, error) {
	if f.Type != protowire.VarintType {
		return 0, pbwire.WrongType(name, f)
	}
	v, ok := f.Int32()
	if !ok {
		return 0, fmt.Errorf("%w: field %s: %d does not fit in an int32", pbwire.ErrMalformed, name, int64(f.Varint))
	}
	return v, nil
}
