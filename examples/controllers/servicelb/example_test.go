package servicelb_test

import (
	"fmt"
	"net/netip"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/servicelb"
)

// New refuses a pool that is not IPv4 and names the entry.
func ExampleNew() {
	_, err := servicelb.New(servicelb.Config{Client: &client.Clientset{}, Pool: []netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}})
	fmt.Println(err)
	// Output: servicelb: Pool[0] 2001:db8::/64 is not an IPv4 prefix
}
