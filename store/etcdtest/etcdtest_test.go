package etcdtest_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
)

func TestMain(m *testing.M) { os.Exit(etcdtest.RunMain(m)) }

func TestStartStopsAtCleanup(t *testing.T) {
	var dir string
	var srv *embedetcd.Server
	t.Run("inner", func(t *testing.T) {
		srv = etcdtest.Start(t, func(c *embedetcd.Config) { c.Name = "custom" })
		dir = srv.Dir()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := srv.Client().Put(ctx, "/a", "b"); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir %s still exists after the test: %v", dir, err)
	}
	if srv.Client() != nil {
		t.Fatal("client still open after the test")
	}
}

func TestSharedIsShared(t *testing.T) {
	a := etcdtest.Shared(t)
	b := etcdtest.Shared(t)
	if a != b {
		t.Fatal("Shared returned two servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.Client().Put(ctx, "/shared", "1"); err != nil {
		t.Fatal(err)
	}
}

// exampleT is enough of a testing.TB to run Start in an example.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                      {}
func (t *exampleT) Cleanup(f func())             { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
func (t *exampleT) Errorf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func ExampleStart() {
	t := &exampleT{} // in a test: the *testing.T
	defer t.done()
	srv := etcdtest.Start(t)
	ctx := context.Background()
	if _, err := srv.Client().Put(ctx, "/greeting", "hello"); err != nil {
		panic(err)
	}
	kv, err := srv.Backend().Get(ctx, "/greeting")
	if err != nil {
		panic(err)
	}
	fmt.Println(string(kv.Value))
	// Output: hello
}
