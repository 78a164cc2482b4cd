package reconcile_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/setpoint-dev/setpoint/reconcile"
)

func TestTerminalError(t *testing.T) {
	if reconcile.TerminalError(nil) != nil {
		t.Fatal("TerminalError(nil) must be nil")
	}
	err := fmt.Errorf("reconciling x: %w", reconcile.TerminalError(io.ErrUnexpectedEOF))
	if !reconcile.IsTerminal(err) || !errors.Is(err, reconcile.ErrTerminal) {
		t.Fatalf("%v is not terminal", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v lost the wrapped error", err)
	}
	if want := "reconciling x: terminal error: unexpected EOF"; err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
	if reconcile.IsTerminal(io.EOF) {
		t.Fatal("plain error reported terminal")
	}
}
