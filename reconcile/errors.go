package reconcile

import (
	"errors"
	"fmt"
)

// Sentinel errors; check with errors.Is.
var (
	// ErrShutDown: the queue has been shut down (and, after
	// ShutDownWithDrain, fully drained); Get hands out nothing more.
	ErrShutDown = errors.New("reconcile: queue is shut down")
	// ErrInvalidConfig: a constructor was given an invalid configuration.
	ErrInvalidConfig = errors.New("reconcile: invalid configuration")
	// ErrTerminal marks an error that retrying will not fix; see TerminalError.
	ErrTerminal = errors.New("terminal error")
	// ErrPanic: the reconciler panicked; the error carries the panic value
	// and the stack.
	ErrPanic = errors.New("reconcile: reconciler panicked")
	// ErrTimeout: the reconcile ran past Config.Timeout; it is the cause of
	// the reconcile's context.
	ErrTimeout = errors.New("reconcile: reconcile timed out")
	// ErrAlreadyRunning: Run was called while the controller was running.
	ErrAlreadyRunning = errors.New("reconcile: controller is already running")
)

// TerminalError wraps err to say that retrying will not help: the controller
// logs it, counts it and forgets the key instead of retrying it. The key is
// reconciled again only when it is next added. TerminalError(nil) is nil.
func TerminalError(err error) error {
	if err == nil {
		return nil
	}
	return &terminalError{err}
}

type terminalError struct{ err error }

func (e *terminalError) Error() string { return fmt.Sprintf("%v: %v", ErrTerminal, e.err) }

// Unwrap returns the wrapped error and ErrTerminal.
func (e *terminalError) Unwrap() []error { return []error{e.err, ErrTerminal} }

// IsTerminal reports whether err was marked with TerminalError.
func IsTerminal(err error) bool { return errors.Is(err, ErrTerminal) }

// panicError is a recovered panic. It wraps ErrPanic.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("%v: %v\n%s", ErrPanic, e.value, e.stack)
}

func (e *panicError) Unwrap() error { return ErrPanic }
