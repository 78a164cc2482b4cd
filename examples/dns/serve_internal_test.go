package dns

import (
	"context"
	"net"
	"testing"

	mdns "github.com/miekg/dns"
)

// A server whose context ends at once, before it may have started, still
// stops and serve returns (the shutdown used to be refused as "server not
// started" while the server went on serving, hanging Run forever; seen in
// CI). Each round's sockets are closed by the shutdown: the next round
// binds new ones.
func TestServeStopsWhenCancelledBeforeStart(t *testing.T) {
	for range 100 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {})
		if err := serve(ctx, &mdns.Server{PacketConn: pc, Handler: h}, "udp"); err != nil {
			t.Fatalf("udp: %v", err)
		}
		if err := serve(ctx, &mdns.Server{Listener: ln, Handler: h}, "tcp"); err != nil {
			t.Fatalf("tcp: %v", err)
		}
		if _, err := ln.Accept(); err == nil {
			t.Fatal("the TCP listener still accepts after serve returned")
		}
	}
}
