package csr_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/controllers/csr"
)

// Check refuses a node asking for another node's certificate.
func ExampleCheck() {
	req := &certificates.CertificateSigningRequest{Spec: certificates.CertificateSigningRequestSpec{
		Request:    []byte("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"),
		SignerName: csr.SignerKubeletClient, Username: "system:node:a"}}
	_, err := csr.Check(req)
	fmt.Println(err != nil)
	// Output:
	// true
}
