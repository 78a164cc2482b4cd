package tokencleaner_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/tokencleaner"
	"github.com/setpoint-dev/setpoint/store"
)

// The cleaner deletes a bootstrap token Secret whose expiration passed.
func Example() {
	cluster, err := controllertest.StartCluster()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop()
	cs := cluster.Client
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tok := &api.Secret{Type: bootstrap.SecretType}
	tok.Namespace, tok.Name = bootstrap.Namespace, "bootstrap-token-abcdef"
	tok.Data = map[string][]byte{bootstrap.KeyTokenID: []byte("abcdef"), bootstrap.KeyTokenSecret: []byte("0123456789abcdef"),
		bootstrap.KeyExpiration: []byte(time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))}
	if _, err := cs.Secrets().Create(ctx, tok); err != nil {
		fmt.Println(err)
		return
	}
	c, err := tokencleaner.New(tokencleaner.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go c.Run(ctx)
	for {
		_, err := cs.Secrets().Get(ctx, bootstrap.Namespace, tok.Name)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling for the deletion, not waiting for time
	}
	fmt.Println("expired token deleted")
	// Output: expired token deleted
}
