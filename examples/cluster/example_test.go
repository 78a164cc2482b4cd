package cluster_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/cluster"
)

// The cluster DNS's Service gets the tenth address of the service CIDR,
// the nameserver every kubelet writes into its pods' resolv.conf, as
// kubeadm and k3s choose it.
func ExampleDNSServiceIP() {
	for _, cidr := range []string{"10.96.0.0/12", "10.43.0.0/16", "192.168.7.16/28"} {
		ip, _ := cluster.DNSServiceIP(cidr)
		fmt.Println(ip)
	}
	_, err := cluster.DNSServiceIP("10.0.0.0/29")
	fmt.Println(err)
	// Output:
	// 10.96.0.10
	// 10.43.0.10
	// 192.168.7.26
	// cluster: service CIDR "10.0.0.0/29" is not an IPv4 prefix of at least 16 addresses
}
