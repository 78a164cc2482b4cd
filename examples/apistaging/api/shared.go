package api

import (
	exapi "github.com/setpoint-dev/setpoint/examples/api"
)

// This file stands in for what examples/api already has, so that the
// staging tree compiles on its own. When the generated packages move to
// examples/api, it is deleted: Quantity, IntOrString and MicroTime are
// examples/api's own (MicroTime becomes store.MicroTime once the library
// has it; see apigen's -library-microtime).

// Quantity is examples/api's Quantity: an exact amount such as "100m" or
// "1Gi".
type Quantity = exapi.Quantity

// IntOrString is examples/api's IntOrString: an integer or a string such as
// 8080 or "25%".
type IntOrString = exapi.IntOrString

// MicroTime is examples/api's MicroTime: a timestamp with microseconds.
type MicroTime = exapi.MicroTime

// ParseQuantity parses text such as "100m" or "1Gi".
func ParseQuantity(s string) (Quantity, error) { return exapi.ParseQuantity(s) }
