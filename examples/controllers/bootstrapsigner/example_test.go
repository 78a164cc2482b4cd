package bootstrapsigner_test

import (
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/controllers/bootstrapsigner"
)

// Signatures computes the entries the signer writes into cluster-info; a
// joining node checks its entry with bootstrap.VerifyClusterInfo.
func ExampleSignatures() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := &api.Secret{Type: bootstrap.SecretType}
	tok.Namespace, tok.Name = bootstrap.Namespace, "bootstrap-token-abcdef"
	tok.Data = map[string][]byte{bootstrap.KeyTokenID: []byte("abcdef"), bootstrap.KeyTokenSecret: []byte("0123456789abcdef"),
		bootstrap.KeyUsageSigning: []byte("true")}
	kubeconfig := "apiVersion: v1\nkind: Config\n"
	sigs, _, err := bootstrapsigner.Signatures(kubeconfig, []*api.Secret{tok}, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	data := map[string]string{bootstrap.KubeconfigKey: kubeconfig}
	for k, v := range sigs {
		data[k] = v
		fmt.Println(k)
	}
	_, err = bootstrap.VerifyClusterInfo(data, "abcdef.0123456789abcdef", nil)
	fmt.Println("verified:", err == nil)
	// Output:
	// jws-kubeconfig-abcdef
	// verified: true
}
