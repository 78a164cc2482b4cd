package netns

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

// TestDialInside: a listener made inside a namespace is reached by Dial
// into that namespace, and not from outside; the namespace's loopback
// traffic shows in its statistics.
func TestDialInside(t *testing.T) {
	p, err := Create(netnsDir(t), "dial")
	if err != nil {
		t.Fatal(err)
	}
	defer Remove(p)
	// A new namespace's loopback is down: bring it up from inside.
	if err := Do(p, func() error {
		fd, err := unixSocket()
		if err != nil {
			return err
		}
		return setUp(fd, "lo")
	}); err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	if err := Do(p, func() error {
		var err error
		l, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "inside\n")
			c.Close()
		}
	}()
	addr := l.Addr().String()
	c, err := Dial(context.Background(), p, addr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "inside\n" {
		t.Fatalf("read %q", b)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		b, _ := io.ReadAll(c)
		c.Close()
		if string(b) == "inside\n" {
			t.Fatal("the namespace's listener answered from outside it")
		}
	}
	st, err := Stats(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Name != "lo" || st[0].RxBytes == 0 {
		t.Fatalf("stats = %+v, want lo with traffic", st)
	}
	if _, err := Dial(context.Background(), p, "localhost:1"); err == nil || !strings.Contains(err.Error(), "IP:port") {
		t.Fatalf("Dial by name: %v", err)
	}
}

func FuzzParseNetDev(f *testing.F) {
	f.Add([]byte("Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"))
	f.Add([]byte("eth0: 1 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseNetDev(data)
		if err != nil {
			return
		}
		for _, s := range st {
			if strings.ContainsAny(s.Name, " \t\n:") {
				t.Fatalf("interface name %q", s.Name)
			}
		}
	})
}
