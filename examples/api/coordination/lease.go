package coordination

import (
	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api/internal/metapb"
)

// The Lease kind is the library's election.Lease, which carries no
// protobuf methods (the library stays free of protobuf); these functions
// are its protobuf codec, with the contract of the generated methods: the
// same bytes as k8s.io/api's coordination/v1 Lease, and a decode that merges
// into l and reports malformed input as an error naming the field.

// SizeLease returns the length of l's protobuf encoding.
func SizeLease(l *election.Lease) int { return metapb.SizeLease(l) }

// MarshalLease returns l's protobuf encoding (without the envelope).
func MarshalLease(l *election.Lease) ([]byte, error) {
	b := make([]byte, metapb.SizeLease(l))
	n, err := metapb.MarshalLease(b, l)
	if err != nil {
		return nil, err
	}
	return b[len(b)-n:], nil
}

// MarshalLeaseToSizedBuffer writes l's encoding to the end of b, which
// must hold SizeLease(l) bytes, and returns the number of bytes written.
func MarshalLeaseToSizedBuffer(b []byte, l *election.Lease) (int, error) {
	return metapb.MarshalLease(b, l)
}

// UnmarshalLease decodes a protobuf encoding into l.
func UnmarshalLease(b []byte, l *election.Lease) error { return metapb.UnmarshalLease(b, l) }
