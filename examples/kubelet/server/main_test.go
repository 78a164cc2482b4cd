package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: every
// session, stream and server ends with its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
