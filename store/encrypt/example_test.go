package encrypt_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/setpoint-dev/setpoint/store/encrypt"
	"github.com/setpoint-dev/setpoint/store/memory"
)

func Example() {
	cfg, err := encrypt.Parse([]byte(`
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aesgcm:
      keys:
      - name: key1
        secret: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
  - identity: {}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	raw := memory.New()
	b, err := encrypt.New(raw, cfg, "/registry")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	b.Create(ctx, "/registry/secrets/default/db", []byte("password"))
	stored, _ := raw.Get(ctx, "/registry/secrets/default/db")
	plain, _ := b.Get(ctx, "/registry/secrets/default/db")
	fmt.Println(bytes.HasPrefix(stored.Value, []byte("k8s:enc:aesgcm:v1:key1:")), bytes.Contains(stored.Value, []byte("password")))
	fmt.Println(string(plain.Value))
	// Output:
	// true false
	// password
}
