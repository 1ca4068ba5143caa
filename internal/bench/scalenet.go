package bench

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/internal/wait"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// The scale phase's network: three embedded NATS servers routed in a
// cluster, and N nodes, node i connected over TCP loopback to server
// i mod 3 (as nodes on separate machines would be, each to the server
// next to it). The third server's nodes, a third of the network, are
// the island of the partition: cut drops that server's routes (it
// restarts on the same client port without them, so its nodes reconnect
// to an island) and heal routes it back.

// scaleNet is a running scale network.
type scaleNet struct {
	servers [3]*events.Server
	addr3   string // the third server's client address, kept across cut
	nodes   []*services.Node
}

// scaleServer is the configuration of server i (0-based) of the cluster;
// NoAdvertise keeps a node on its own server, so the island's nodes
// cannot fail over to the majority's servers.
func scaleServer(i int, listen string, routes ...string) events.ServerConfig {
	return events.ServerConfig{Name: fmt.Sprintf("scale-s%d", i+1), Listen: listen, ClusterListen: "127.0.0.1:0",
		Routes: routes, NoAdvertise: true}
}

// startScaleNet starts the three servers and n nodes on them, mining
// off, each in the given miner mode and pause, miner i paid to keys[i].
func startScaleNet(ctx context.Context, g *genesis.File, keys []*rsa.PrivateKey, n int, settings miner.Settings) (*scaleNet, error) {
	sn := &scaleNet{}
	addr3, err := freeAddr()
	if err != nil {
		return nil, err
	}
	sn.addr3 = addr3
	for i, listen := range []string{"127.0.0.1:0", "127.0.0.1:0", addr3} {
		var routes []string
		if i > 0 {
			routes = []string{sn.servers[0].RouteURL()}
		}
		if sn.servers[i], err = events.StartServer(scaleServer(i, listen, routes...)); err != nil {
			sn.Close()
			return nil, err
		}
	}
	sn.nodes = make([]*services.Node, n)
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			nd, err := services.New(services.Config{
				Name: fmt.Sprintf("node-%d", i+1), Genesis: g, MinerKey: keys[i], Miner: settings,
				NATSServers: []string{sn.servers[i%3].ClientURL()},
			})
			if err == nil {
				err = nd.Start(ctx)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("node %d: %w", i+1, err))
				return
			}
			sn.nodes[i] = nd
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		sn.Close()
		return nil, err
	}
	return sn, nil
}

// island is the nodes on the third server.
func (sn *scaleNet) island() []*services.Node {
	var out []*services.Node
	for i := 2; i < len(sn.nodes); i += 3 {
		out = append(out, sn.nodes[i])
	}
	return out
}

func (sn *scaleNet) chains() []*chain.Chain {
	out := make([]*chain.Chain, len(sn.nodes))
	for i, n := range sn.nodes {
		out[i] = n.Chain()
	}
	return out
}

// cut partitions the island: the third server stops and starts again on
// the same client address with no routes (and a new route port, so no
// other server reconnects to it); its nodes reconnect to it alone.
func (sn *scaleNet) cut() error {
	sn.servers[2].Shutdown()
	s, err := events.StartServer(scaleServer(2, sn.addr3))
	if err != nil {
		sn.servers[2] = nil
		return fmt.Errorf("partition: %w", err)
	}
	sn.servers[2] = s
	return nil
}

// heal routes the island's server back to the first server (the second
// joins by the cluster's gossip).
func (sn *scaleNet) heal() error { return sn.servers[2].AddRoutes(sn.servers[0].RouteURL()) }

// oneTip reports whether every node has the same tip.
func (sn *scaleNet) oneTip() bool {
	tip := sn.nodes[0].Chain().Tip().Hash
	for _, n := range sn.nodes[1:] {
		if n.Chain().Tip().Hash != tip {
			return false
		}
	}
	return true
}

// bestTips are the most-work tips among the nodes' tips now.
func (sn *scaleNet) bestTips() []chain.Tip {
	var best []chain.Tip
	for _, n := range sn.nodes {
		t := n.Chain().Tip()
		if len(best) > 0 {
			c := t.Work.Cmp(best[0].Work)
			if c < 0 || slices.ContainsFunc(best, func(b chain.Tip) bool { return b.Hash == t.Hash }) {
				continue
			}
			if c > 0 {
				best = best[:0]
			}
		}
		best = append(best, t)
	}
	return best
}

// resolved reports whether a fork is over on every node: every node's
// chain holds one of the tips best (the most-work tips of the moment the
// fork was looked at), or, should another branch have overtaken them, all
// nodes have one tip. Every tip after that moment descends from one of
// the tips then, so the first holds once the network agrees on what
// happened up to then, however it mines on.
func (sn *scaleNet) resolved(best []chain.Tip) bool {
	if sn.oneTip() {
		return true
	}
	for _, t := range best {
		all := true
		for _, n := range sn.nodes {
			if b, ok := n.Chain().BlockAt(t.Height); !ok || b.Hash() != t.Hash {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// allPeers waits until every node's presence table lists every other node.
func (sn *scaleNet) allPeers(ctx context.Context, timeout time.Duration) bool {
	return wait.For(ctx, timeout, 20*time.Millisecond, func() bool {
		for _, n := range sn.nodes {
			if n.Peers().Len() < len(sn.nodes)-1 {
				return false
			}
		}
		return true
	})
}

// traffic is what each node's connection carried so far, by node name:
// In what the node published, Out what the servers delivered to it
// (events.Server.ClientTraffic, summed over the three servers).
func (sn *scaleNet) traffic() (map[string]events.ClientTraffic, error) {
	byConn := map[string]events.ClientTraffic{}
	for _, s := range sn.servers {
		if s == nil {
			continue
		}
		cs, err := s.ClientTraffic()
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			t := byConn[c.Name]
			t.In.Msgs, t.In.Bytes = t.In.Msgs+c.In.Msgs, t.In.Bytes+c.In.Bytes
			t.Out.Msgs, t.Out.Bytes = t.Out.Msgs+c.Out.Msgs, t.Out.Bytes+c.Out.Bytes
			byConn[c.Name] = t
		}
	}
	out := map[string]events.ClientTraffic{}
	for _, n := range sn.nodes {
		out[n.Name()] = byConn["pycotr "+n.Name()]
	}
	return out, nil
}

func (sn *scaleNet) stopMining() {
	for _, n := range sn.nodes {
		if n != nil {
			n.Miner().Stop()
		}
	}
}

// Close stops the nodes (in parallel: each drains its connection), then
// the servers.
func (sn *scaleNet) Close() {
	var wg sync.WaitGroup
	for _, n := range sn.nodes {
		if n != nil {
			wg.Go(func() { _ = n.Close() })
		}
	}
	wg.Wait()
	for _, s := range sn.servers {
		if s != nil {
			s.Shutdown()
		}
	}
}

// freeAddr is a loopback address with a free port (free when asked).
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
