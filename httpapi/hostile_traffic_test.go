package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
	"github.com/pycotr/pycotr/internal/wait"
	"github.com/pycotr/pycotr/services"
)

// TestHostileTraffic is issue 15's acceptance: while an honest 3-node
// network mines and takes card purchases, one NATS connection sends 1,000
// fake consensus replies (lying tips, some signed by keys of its own, some
// unsigned or naming honest nodes) and 500 spoofed presence beats in an
// honest node's name, and HTTP clients send 100 compatibility requests with
// an 8192-bit key and 200 concurrent create_key calls, all within 10 s
// (the nodes rejoining in turn meanwhile, so that their rounds meet the
// fake replies). Within 2 s of the end the network is ready and on one tip, it keeps
// mining, the honest peer's URL is intact, and every accepted purchase is
// confirmed on every node.
func TestHostileTraffic(t *testing.T) {
	srv, err := events.StartServer(events.ServerConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	var nodes []*services.Node
	var apis []*testAPI
	for i := range 3 {
		n := startNode(t, srv, i)
		nodes = append(nodes, n)
		apis = append(apis, newTestAPI(t, n, nil))
	}
	if err := nodes[0].Miner().SetPause(150 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	nodes[0].Miner().Start()
	honest := nodes[1]
	testkit.Eventually(t, 20*time.Second, "an honest network: ready, 2 peers each", func() bool {
		for _, n := range nodes {
			if ok, _ := n.Ready(); !ok || n.State().Peers != 2 {
				return false
			}
		}
		return true
	})

	evil, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(evil.Close)
	liars := make([]*events.Identity, 5)
	for i := range liars {
		if liars[i], err = events.NewIdentity(); err != nil {
			t.Fatal(err)
		}
	}
	fakeTip := func(id string) []byte {
		work := new(big.Int).Lsh(big.NewInt(1), 200)
		b, _ := json.Marshal(events.NodeState{NodeID: id, Name: "liar", URL: "http://liar.invalid", ChainID: id,
			Height: 1_000_000, Tip: chain.Hash{0xee}, Work: work.String(), Version: services.Version})
		return b
	}

	start := time.Now()
	var wg sync.WaitGroup
	var fakeReplies, spoofed, bigKey, keyOK, keyBusy, keyOther atomic.Int64

	// 1,000 fake consensus replies, 40 to each request the nodes make.
	sub, err := evil.Subscribe("pycotr.consensus", func(m *nats.Msg) {
		for k := 0; k < 40 && fakeReplies.Load() < 1000; k++ {
			r := nats.NewMsg(m.Reply)
			switch k % 4 {
			case 0: // a lying tip, properly signed by a key of its own
				l := liars[k%len(liars)]
				r.Data = fakeTip(l.ID())
				l.Sign(r.Header, events.KindConsensus, r.Data)
			case 1: // a lying tip in an honest node's name, signed by another key
				r.Data = fakeTip(honest.ID())
				liars[0].Sign(r.Header, events.KindConsensus, r.Data)
				r.Header.Set(events.HeaderNode, honest.ID())
			case 2: // unsigned
				r.Data = fakeTip(uuid.NewString())
				r.Header.Set(events.HeaderNode, uuid.NewString())
			default: // garbage
				r.Data = []byte(`{"node_id": 7`)
			}
			r.Header.Set(events.HeaderVersion, events.ProtocolVersion)
			if evil.PublishMsg(r) == nil {
				fakeReplies.Add(1)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })

	// A node asks every node for its tip at start and when it rejoins the
	// network (a reconnect, or the fork lab's heal), not per block (issue
	// 19, services/consensus.go). So the nodes rejoin, in turn, every
	// 300 ms: each is cut off and healed at once (Isolate then Heal, a
	// moment without messages), and its heal's round meets the fake
	// replies.
	stopRejoins := make(chan struct{})
	var rejoins sync.WaitGroup
	rejoins.Go(func() {
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for k := 0; ; k++ {
			select {
			case <-stopRejoins:
				return
			case <-tick.C:
			}
			if fakeReplies.Load() >= 1000 {
				return
			}
			lab := nodes[k%len(nodes)].Lab()
			if _, err := lab.Isolate(time.Second); err == nil {
				lab.Heal()
			}
		}
	})
	endRejoins := sync.OnceFunc(func() { close(stopRejoins); rejoins.Wait() })
	defer endRejoins()

	// 500 spoofed beats in the honest node's name, pointing at a trap URL.
	wg.Go(func() {
		for i := range 500 {
			h := nats.Header{}
			body, _ := json.Marshal(events.NodeState{NodeID: honest.ID(), Name: honest.Name(), URL: "http://trap.invalid",
				ChainID: honest.ID(), Height: uint64(i), Work: "1", Version: services.Version})
			if i%2 == 0 {
				liars[1].Sign(h, events.KindPresence, body)
			}
			h.Set(events.HeaderNode, honest.ID())
			h.Set(events.HeaderVersion, events.ProtocolVersion)
			if evil.PublishMsg(&nats.Msg{Subject: "pycotr.presence", Header: h, Data: body}) == nil {
				spoofed.Add(1)
			}
			time.Sleep(10 * time.Millisecond) // pacing the flood over 5 s, not synchronising
		}
	})

	// 100 compatibility requests with an 8192-bit key: refused before any
	// parse or signature.
	keyHex := readKeyFile(t, "rsa8192.hex")
	wg.Go(func() {
		for range 100 {
			res := postJSON(apis[2].srv.URL+"/add_to_pending_transactions", map[string]any{
				"from_address": "3082", "to_address": "3082", "from_private_key": keyHex, "amount": 5,
			})
			if res == http.StatusUnprocessableEntity {
				bigKey.Add(1)
			}
		}
	})

	// 200 concurrent create_key calls: at most as many at once as cores.
	for i := range 200 {
		wg.Go(func() {
			switch get(apis[i%3].srv.URL + "/create_key") {
			case http.StatusOK:
				keyOK.Add(1)
			case http.StatusTooManyRequests:
				keyBusy.Add(1)
			default:
				keyOther.Add(1)
			}
		})
	}

	// The honest users meanwhile: 30 card purchases, spread over the nodes.
	var accepted []string
	for i := range 30 {
		tx := signedMint(t, i%8, int64(10+i))
		res := apis[i%3].do("POST", "/api/v1/txs", "application/json", jsonBody(t, withCard(tx)))
		if res.status != http.StatusAccepted {
			t.Fatalf("an honest purchase: %d %s", res.status, res.body)
		}
		accepted = append(accepted, tx.ID)
	}
	wg.Wait()
	if !wait.For(context.Background(), 10*time.Second, 20*time.Millisecond, func() bool { return fakeReplies.Load() >= 1000 }) {
		t.Fatalf("only %d fake replies sent", fakeReplies.Load())
	}
	endRejoins()
	end := time.Now()
	if el := end.Sub(start); el > 15*time.Second {
		t.Errorf("the hostile traffic took %s (planned: 10 s)", el)
	}

	// Within 2 s of the end: ready and on one tip.
	var settled time.Duration
	inSync := wait.For(context.Background(), 2*time.Second, 5*time.Millisecond, func() bool {
		tip := nodes[0].State().Tip
		for _, n := range nodes {
			if ok, _ := n.Ready(); !ok || n.State().Tip != tip {
				return false
			}
		}
		settled = time.Since(end)
		return true
	})
	if !inSync {
		for _, n := range nodes {
			ok, why := n.Ready()
			t.Logf("%s: ready %v %s, height %d tip %s", n.Name(), ok, why, n.State().Height, n.State().Tip.Short())
		}
		t.Fatal("the network was not ready and on one tip within 2 s of the hostile traffic's end")
	}
	h := nodes[0].State().Height
	testkit.Eventually(t, 10*time.Second, "the network still mines", func() bool { return nodes[2].State().Height > h+2 })
	for _, n := range []*services.Node{nodes[0], nodes[2]} {
		for _, p := range n.Peers().List() {
			if p.NodeID == honest.ID() && p.URL != honest.PublicURL() {
				t.Fatalf("%s lists the honest peer at %s", n.Name(), p.URL)
			}
		}
	}
	testkit.Eventually(t, 30*time.Second, "every accepted purchase confirmed on every node", func() bool {
		for _, n := range nodes {
			for _, id := range accepted {
				if !confirmed(n, id) {
					return false
				}
			}
		}
		return true
	})
	if bigKey.Load() != 100 || keyOK.Load()+keyBusy.Load() != 200 || keyOther.Load() != 0 {
		t.Fatalf("HTTP bounds: %d/100 big keys refused with 422; create_key %d ok, %d 429, %d other",
			bigKey.Load(), keyOK.Load(), keyBusy.Load(), keyOther.Load())
	}
	drops := map[string]uint64{}
	for _, n := range nodes {
		for k, v := range n.Stats().NATSDrops {
			drops[k] += v
		}
	}
	t.Logf("hostile traffic for %s: %d fake consensus replies, %d spoofed beats, %d big-key compat requests refused (422), "+
		"create_key %d answered, %d refused (429); drops on the 3 nodes %v; ready and on one tip %s after the end; "+
		"%d purchases accepted meanwhile, all confirmed",
		end.Sub(start).Round(time.Millisecond), fakeReplies.Load(), spoofed.Load(), bigKey.Load(), keyOK.Load(), keyBusy.Load(),
		drops, settled.Round(time.Millisecond), len(accepted))
}

func postJSON(url string, v any) int {
	b, _ := json.Marshal(v)
	res, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func get(url string) int {
	res, err := http.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
