package bootstrap_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/bootstrap"
)

func Example() {
	kubeconfig := "apiVersion: v1\nkind: Config\n"
	sig, _ := bootstrap.DetachedSignature(kubeconfig, "abcdef", "0123456789abcdef")
	clusterInfo := map[string]string{"kubeconfig": kubeconfig, "jws-kubeconfig-abcdef": sig}

	_, err := bootstrap.VerifyClusterInfo(clusterInfo, "abcdef.0123456789abcdef", nil)
	fmt.Println(err)
	_, err = bootstrap.VerifyClusterInfo(clusterInfo, "abcdef.0000000000000000", nil)
	fmt.Println(err)
	// Output:
	// <nil>
	// bootstrap: cluster-info not verified: the signature for token ID "abcdef" does not match: wrong token secret, or the kubeconfig was changed
}
