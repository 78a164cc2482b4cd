package proxy

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// countingWriter counts the syncs the netlink path wrote.
type countingWriter struct {
	n int
	w rulesetWriter
}

func (c *countingWriter) rewrite(table string, chains map[string]*fastChain) error {
	c.n++
	return c.w.rewrite(table, chains)
}

// addNetNS makes a network namespace for the test and removes it after.
func addNetNS(t *testing.T, name string) string {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return filepath.Join("/run/netns", name)
}

func listTable(t *testing.T, ns, table string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "table", "ip", table).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list table in %s: %v: %s", ns, err, out)
	}
	return string(out)
}

// mapKey is a key of an inline map in nft's listing.
var mapKey = regexp.MustCompile(`([{,] )(\d+)( : )`)

// hostOrderKeys rewrites the inline map keys of a listing of tables the
// netlink path wrote as nft lists them for its own maps: the netlink
// library marks an anonymous map's keys big-endian, so nft shows the
// host-order numbers (which numgen produces, and which the keys hold)
// with their bytes read as big-endian.
func hostOrderKeys(listing string) string {
	return mapKey.ReplaceAllStringFunc(listing, func(m string) string {
		p := mapKey.FindStringSubmatch(m)
		v, err := strconv.ParseUint(p[2], 10, 32)
		if err != nil {
			return m
		}
		b := binary.BigEndian.AppendUint32(nil, uint32(v))
		return p[1] + strconv.FormatUint(uint64(binary.NativeEndian.Uint32(b)), 10) + p[3]
	})
}

// programNS programs the namespace at path with a fresh nftables backend
// of cfg (netlink writes through writer, nil for nft only), one apply per
// state in turn.
func programNS(path string, cfg *Config, writer rulesetWriter, states ...[]*servicePort) error {
	r, err := startNS(path)
	if err != nil {
		return err
	}
	defer r.stop()
	return r.do(func() error {
		nft, err := newKNFT(false, cfg.TableName)
		if err != nil {
			return err
		}
		b := newNFTBackend(nft, cfg, false)
		b.writer = writer
		for i, sps := range states {
			if _, err := b.apply(context.Background(), sps); err != nil {
				return fmt.Errorf("state %d: %w", i, err)
			}
		}
		return nil
	})
}

// rounds returns fastTestPorts of each round.
func rounds(rs ...int) [][]*servicePort {
	out := make([][]*servicePort, len(rs))
	for i, r := range rs {
		out[i] = fastTestPorts(r)
	}
	return out
}

func fastTestPorts(round int) []*servicePort {
	addr := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	eps := func(n, base int) []endpoint {
		var out []endpoint
		for i := range n {
			out = append(out, endpoint{addr: netip.AddrFrom4([4]byte{10, 244, byte(base), byte(i + 1)}), port: int32(8080 + i%2)})
		}
		return out
	}
	// Endpoint counts per round: many to other many, many to one, one to
	// many; d (internalTrafficPolicy Local, none on this node) drops.
	counts := [][]int{{3, 1, 2, 2}, {5, 3, 1, 3}, {1, 2, 4, 1}}[round]
	return []*servicePort{
		{namespace: "default", name: "a", protocol: "tcp", clusterIP: addr("10.96.0.1"), port: 80, endpoints: eps(counts[0], round)},
		{namespace: "default", name: "b", protocol: "udp", clusterIP: addr("10.96.0.2"), port: 53, endpoints: eps(counts[1], 10+round),
			nodePort: 30053},
		{namespace: "default", name: "c", protocol: "sctp", clusterIP: addr("10.96.0.3"), port: 9, endpoints: eps(counts[2], 20+round),
			externalIPs: []netip.Addr{addr("192.0.2.7")}},
		{namespace: "default", name: "d", protocol: "tcp", clusterIP: addr("10.96.0.4"), port: 443, endpoints: eps(counts[3], 30+round),
			internalLocal: true},
	}
}

// TestNetlinkWriterMatchesNFT: endpoint changes written through netlink
// leave the table exactly as nft writes the same rules (nft's own listing
// of both tables is compared), for every rule shape of a fast chain and
// cluster CIDRs that end on and inside a byte; a sync that changes more
// than fast chains still goes through nft.
func TestNetlinkWriterMatchesNFT(t *testing.T) {
	for _, cidr := range []string{"10.244.0.0/16", "10.240.0.0/12"} {
		t.Run(cidr, func(t *testing.T) {
			cfg := Config{TableName: "spfast", ClusterCIDR: netip.MustParsePrefix(cidr)}
			cfg.setDefaults()
			tag := strings.NewReplacer(".", "", "/", "").Replace(cidr)
			nsFast, nsNFT := "spx-fast-"+tag, "spx-nft-"+tag
			pathFast, pathNFT := addNetNS(t, nsFast), addNetNS(t, nsNFT)
			w := &countingWriter{w: netlinkWriter{}}
			if err := programNS(pathFast, &cfg, w, rounds(0, 1, 2)...); err != nil {
				t.Fatal(err)
			}
			if err := programNS(pathNFT, &cfg, nil, rounds(2)...); err != nil {
				t.Fatal(err)
			}
			if w.n != 2 {
				t.Errorf("netlink wrote %d syncs, want 2 (the two endpoint changes)", w.n)
			}
			if got, want := hostOrderKeys(listTable(t, nsFast, cfg.TableName)), listTable(t, nsNFT, cfg.TableName); got != want {
				t.Errorf("table after netlink writes:\n%s\nwant (nft):\n%s", got, want)
			}
			// A new service is not an endpoint change: nft.
			w.n = 0
			sps := append(fastTestPorts(0), &servicePort{namespace: "default", name: "e", protocol: "tcp",
				clusterIP: netip.MustParseAddr("10.96.0.5"), port: 80, endpoints: []endpoint{{addr: netip.MustParseAddr("10.244.9.9"), port: 80}}})
			if err := programNS(pathFast, &cfg, w, fastTestPorts(0), sps); err != nil {
				t.Fatal(err)
			}
			if w.n != 0 {
				t.Errorf("netlink wrote a sync that added a service")
			}
			if l := listTable(t, nsFast, cfg.TableName); !strings.Contains(l, "10.244.9.9") {
				t.Errorf("new service not programmed:\n%s", l)
			}
		})
	}
}

// TestNetlinkWritersConcurrent: several proxies in one process (as the
// cluster example runs its nodes) write through netlink at once, each in
// its own namespace, and each table ends as nft would write it.
func TestNetlinkWritersConcurrent(t *testing.T) {
	cfg := Config{TableName: "spfastc", ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}
	cfg.setDefaults()
	const n = 3
	errs := make(chan error, n)
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("spx-fastc-%d", i)
		path := addNetNS(t, names[i])
		go func() { errs <- programNS(path, &cfg, netlinkWriter{}, rounds(0, 1, 2, 0, 1, 2)...) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := programNS(addNetNS(t, "spx-fastc-want"), &cfg, nil, rounds(2)...); err != nil {
		t.Fatal(err)
	}
	w := listTable(t, "spx-fastc-want", cfg.TableName)
	for _, ns := range names {
		if got := hostOrderKeys(listTable(t, ns, cfg.TableName)); got != w {
			t.Errorf("%s after concurrent netlink writes:\n%s\nwant:\n%s", ns, got, w)
		}
	}
}
