package rest

import (
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

func TestConfigValidate(t *testing.T) {
	st, err := store.New[*widget](memory.New(), storetest.WidgetResource)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := store.New[*widget](memory.New(), storetest.WidgetResource, store.WithWatchCache(store.WatchCacheConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	defer cached.Close()
	for _, tc := range []struct {
		cfg  Config[*widget]
		want string
	}{
		{Config[*widget]{}, "Store is required"},
		{Config[*widget]{Store: st, MaxBodyBytes: -1}, "MaxBodyBytes"},
		{Config[*widget]{Store: st, WatchCache: store.WatchCacheConfig{Window: -1}}, "WatchCacheConfig.Window"},
		{Config[*widget]{Store: st, WatchCache: store.WatchCacheConfig{WatcherBytes: -1}}, "WatchCacheConfig.WatcherBytes"},
		{Config[*widget]{Store: cached, WatchCache: store.WatchCacheConfig{Window: 5}}, "Store has its own watch cache"},
		{Config[*widget]{Store: st, Admission: []AdmissionPlugin{nil}}, "Admission[0] is nil"},
		{Config[*widget]{Store: st, Admission: []AdmissionPlugin{namedOnly("Nothing")}}, "Admission[0] (Nothing) implements neither"},
	} {
		if _, err := NewHandler(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewHandler(%+v) = %v, want an error mentioning %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := NewHandler(Config[*widget]{Store: st}); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	if _, err := NewHandler(Config[*widget]{Store: cached}); err != nil {
		t.Fatalf("a store with its own watch cache: %v", err)
	}
}

type namedOnly string

func (n namedOnly) Name() string { return string(n) }
