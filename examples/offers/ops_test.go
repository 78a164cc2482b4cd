package offers

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// applyOps drives a through the operations that data encodes, two bytes
// each (operation, argument), and returns the first broken invariant. Any
// error an operation returns is fine (bad input is part of the game);
// what must never happen is a state that Check rejects or a panic.
func applyOps(a *Allocator, clk *clockwork.FakeClock, data []byte) error {
	nodes := []string{"n0", "n1", "n2"}
	fws := []string{"f0", "f1", "f2", "f3"}
	roles := []string{"*", "r1", "r2"}
	for i := 0; i+1 < len(data); i += 2 {
		op, x := data[i]%12, int(data[i+1])
		node, fw := nodes[x%len(nodes)], fws[x%len(fws)]
		cpu := fmt.Sprint(x % 7)
		switch op {
		case 0:
			_ = a.SetNode(node, rl(fmt.Sprint(2+x%9), fmt.Sprintf("%dGi", 2+x%5)))
		case 1:
			_ = a.SetNodeUsed(node, rl(cpu, "1Gi"))
		case 2:
			_, _ = a.RemoveNode(node)
		case 3:
			var task api.ResourceList
			if x%3 != 0 {
				task = rl(fmt.Sprint(1+x%3), fmt.Sprintf("%dMi", 256*(1+x%4)))
			}
			f := fwSpec(fw, roles[(x/4)%len(roles)], int32(1+x%3), task)
			_ = a.Register(f)
		case 4:
			_, _ = a.Unregister(fw)
		case 5, 6:
			a.Cycle()
		case 7, 8:
			// accept part, all or more than the offer
			for _, o := range a.Pending(fw) {
				ask := api.ResourceList{}
				for n, q := range o.Spec.Resources {
					ask[n] = api.NewMilliQuantity(q.MilliValue()*int64(x%5)/3, api.DecimalSI)
				}
				_ = a.Accept(fw, o.Name, []api.ResourceList{ask})
				break
			}
		case 9:
			for _, o := range a.Pending(fw) {
				_ = a.Decline(fw, o.Name, time.Duration(x%20)*time.Second)
				break
			}
		case 10:
			_ = a.Release(fw, node, rl(cpu, ""))
		case 11:
			if x%2 == 0 {
				clk.Advance(time.Duration(x) * time.Second)
			} else {
				_ = a.SetRole(roles[x%len(roles)], Role{
					Weight:       int32(x % 3),
					Quota:        rl(fmt.Sprint(3+x%10), ""),
					Reservations: map[string]api.ResourceList{node: rl(cpu, "")},
				})
			}
		}
		if err := a.Check(); err != nil {
			return fmt.Errorf("after op %d (%d,%d): %w", i/2, op, x, err)
		}
	}
	return nil
}

func FuzzOperations(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 2, 3, 1, 3, 2, 5, 0, 7, 1, 7, 2, 9, 3, 5, 0})
	f.Add([]byte{0, 4, 3, 5, 3, 6, 11, 1, 5, 0, 8, 5, 11, 40, 5, 0, 2, 1, 10, 5, 4, 5, 5, 0})
	f.Add([]byte{0, 0, 1, 3, 3, 0, 5, 0, 1, 6, 11, 3, 5, 1, 7, 4, 2, 0, 5, 0, 10, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		clk := clockwork.NewFakeClock()
		a, err := New(Config{Clock: clk, OfferTimeout: 20 * time.Second, HoardCycles: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := applyOps(a, clk, data); err != nil {
			t.Fatal(err)
		}
	})
}

// TestConcurrentStress: frameworks accept, decline and release while
// cycles run, nodes change their pods' use and the clock moves; no node
// is ever offered or allocated beyond its allocatable (Check, run
// concurrently and at the end).
func TestConcurrentStress(t *testing.T) {
	clk := clockwork.NewFakeClock()
	a, err := New(Config{Clock: clk, OfferTimeout: 10 * time.Second, HoardCycles: 4})
	must(t, err)
	for i := range 8 {
		must(t, a.SetNode(fmt.Sprintf("n%d", i), rl("8", "16Gi")))
	}
	const frameworks, rounds = 6, 300
	for i := range frameworks {
		must(t, a.Register(fwSpec(fmt.Sprintf("f%d", i), fmt.Sprintf("r%d", i%2), int32(1+i%2), rl(fmt.Sprint(1+i%3), "1Gi"))))
	}
	var wg sync.WaitGroup
	errs := make(chan error, frameworks+3)
	for i := range frameworks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("f%d", i)
			task := rl(fmt.Sprint(1+i%3), "1Gi")
			running := map[string]int{}
			for r := range rounds {
				for _, o := range a.Pending(name) {
					switch (r + i) % 3 {
					case 0:
						if a.Accept(name, o.Name, []api.ResourceList{task}) == nil {
							running[o.Spec.Node]++
						}
					case 1:
						_ = a.Decline(name, o.Name, time.Duration(r%3)*time.Second)
					}
				}
				for n, k := range running {
					if k > 0 && r%4 == 0 {
						if err := a.Release(name, n, task); err != nil {
							errs <- err
							return
						}
						running[n]--
					}
				}
			}
		}()
	}
	wg.Add(3)
	go func() {
		defer wg.Done()
		for range rounds {
			a.Cycle()
			clk.Advance(time.Second)
		}
	}()
	go func() {
		defer wg.Done()
		for r := range rounds {
			_ = a.SetNodeUsed(fmt.Sprintf("n%d", r%8), rl(fmt.Sprint(r%3), "1Gi"))
		}
	}()
	go func() {
		defer wg.Done()
		for range rounds {
			if err := a.Check(); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	must(t, a.Check())
}
