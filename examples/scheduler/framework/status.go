package framework

import (
	"errors"
	"strings"
)

// Code is the outcome of a plugin call, as in Kubernetes' scheduling
// framework.
type Code int

// The codes. A nil *Status means Success.
const (
	// Success: the plugin is satisfied.
	Success Code = iota
	// Error: an internal failure; the pod is retried with backoff and the
	// attempt counts as an error, not as unschedulable.
	Error
	// Unschedulable: the pod does not fit here now, but preemption (or a
	// change in the cluster) might help.
	Unschedulable
	// UnschedulableAndUnresolvable: the pod cannot fit here and preemption
	// would not help (for example a node selector that does not match).
	UnschedulableAndUnresolvable
	// Wait: a Permit plugin holds the pod until it is allowed or rejected.
	Wait
	// Skip: PreFilter and PreScore plugins return it to say the plugin has
	// nothing to do for this pod, so its Filter or Score is not called; a
	// Bind plugin returns it to pass the pod to the next Bind plugin.
	Skip
	// Pending: the pod waits for something outside the scheduler (a
	// PreEnqueue gate, an ongoing preemption).
	Pending
)

var codeNames = [...]string{"Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Wait", "Skip", "Pending"}

// String returns the code's name, as Kubernetes prints it.
func (c Code) String() string {
	if c < 0 || int(c) >= len(codeNames) {
		return "Unknown"
	}
	return codeNames[c]
}

// Status is the result of a plugin call: a code, the reasons a user reads
// (each becomes an entry of the "0/N nodes are available" histogram), an
// error for the Error code, and the plugin that returned it. A nil *Status
// is Success; every method accepts nil.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a status with the code and reasons.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps an error as an Error status; nil gives nil (Success).
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code returns the status code; Success for nil.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether the code is Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports whether the code is Skip.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsWait reports whether the code is Wait.
func (s *Status) IsWait() bool { return s.Code() == Wait }

// IsRejected reports whether the pod was rejected (Unschedulable,
// UnschedulableAndUnresolvable or Pending), as opposed to failing with an
// Error.
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable || c == Pending
}

// Reasons returns the reasons, read-only.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message returns the reasons joined by ", ".
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// Plugin returns the plugin that returned the status ("" if unknown).
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// WithPlugin records the plugin that returned s and returns s. A nil
// status stays nil.
func (s *Status) WithPlugin(name string) *Status {
	if s != nil {
		s.plugin = name
	}
	return s
}

// AsError returns the status as an error: nil for Success and Skip, the
// wrapped error for Error, otherwise an error carrying the message.
func (s *Status) AsError() error {
	switch {
	case s.IsSuccess() || s.IsSkip():
		return nil
	case s.err != nil:
		return s.err
	}
	return errors.New(s.Message())
}

// String returns "Code: message".
func (s *Status) String() string {
	if msg := s.Message(); msg != "" {
		return s.Code().String() + ": " + msg
	}
	return s.Code().String()
}
