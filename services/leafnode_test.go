package services

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
	"github.com/pycotr/pycotr/services/miner"
)

// TestLeafNodesShareOneChain: a hub NATS server accepts leaf nodes; two
// nodes each embed their own server, in-process only, that joins the hub as
// a leaf with one outbound connection (a laptop joining a classroom's hub).
// The nodes find each other by presence and agree on one chain, and a
// hub-side node sees both.
func TestLeafNodesShareOneChain(t *testing.T) {
	hub, err := events.StartServer(events.ServerConfig{Name: "hub", Listen: "127.0.0.1:0", LeafListen: "127.0.0.1:0",
		User: "classroom", Password: "leaf-pa55"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Shutdown)
	if hub.LeafURL() == "" {
		t.Fatal("the hub reports no leaf URL")
	}
	remote := "nats-leaf://classroom:leaf-pa55@" + hub.LeafURL()[len("nats-leaf://"):]
	g := chaintest.Genesis(t, chaintest.Params(8))
	var nodes []*Node
	start := func(name string, srv *events.Server, i int, mining bool) {
		n, err := New(Config{
			Name: name, PublicURL: fmt.Sprintf("http://%s.example:3001", name), MinerKey: testkit.Key(i), Genesis: g,
			Embedded: srv, PresenceInterval: 100 * time.Millisecond, ConsensusInterval: 500 * time.Millisecond,
			GatherStall: 100 * time.Millisecond, Miner: miner.Settings{Pause: 50 * time.Millisecond, Autostart: mining},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		nodes = append(nodes, n)
	}
	for i, name := range []string{"laptop-1", "laptop-2"} {
		leaf, err := events.StartServer(events.ServerConfig{Name: name, LeafRemotes: []string{remote}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(leaf.Shutdown)
		start(name, leaf, i, i == 0)
	}
	start("hub-node", hub, 2, false)
	testkit.Eventually(t, 10*time.Second, "both leaf servers joined the hub", func() bool { return hub.NumLeafNodes() == 2 })
	testkit.Eventually(t, 30*time.Second, "three nodes on one chain of height ≥ 5, each seeing two peers", func() bool {
		tip := nodes[0].State()
		for _, n := range nodes {
			s := n.State()
			if s.Height < 5 || s.Tip != tip.Tip || s.Peers != 2 {
				return false
			}
		}
		return true
	})

	if _, err := events.StartServer(events.ServerConfig{LeafListen: "0.0.0.0:0"}); err == nil {
		t.Fatal("an open leaf-node listener on every interface was accepted")
	}
	if _, err := events.StartServer(events.ServerConfig{LeafRemotes: []string{"http://hub:80"}}); err == nil {
		t.Fatal("a remote that is not a nats-leaf URL was accepted")
	}
}
