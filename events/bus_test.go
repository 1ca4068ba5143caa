package events

import (
	"context"
	"errors"
	"github.com/pycotr/pycotr/internal/testkit"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
)

// dropLog records a bus's drops.
type dropLog struct {
	mu sync.Mutex
	m  map[string]int
}

func (d *dropLog) add(_, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]int{}
	}
	d.m[reason]++
}

func (d *dropLog) get(reason string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[reason]
}

func testBusDrops(t *testing.T, s *Server, id string, drops *dropLog) *Bus {
	t.Helper()
	cfg := BusConfig{Embedded: s, NodeID: id, Name: id}
	if drops != nil {
		cfg.OnDrop = drops.add
	}
	b, err := Connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func testBus(t *testing.T, s *Server, id string) *Bus { return testBusDrops(t, s, id, nil) }

// rawConn is a plain NATS connection to s, as a hostile or curious client
// has; it closes with the test.
func rawConn(t *testing.T, s *Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// rawPublisher publishes what it is given, as it is, on a raw connection.
func rawPublisher(t *testing.T, s *Server) func(subject string, h nats.Header, data string) {
	nc := rawConn(t, s)
	return func(subject string, h nats.Header, data string) {
		t.Helper()
		if err := nc.PublishMsg(&nats.Msg{Subject: subject, Header: h, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
}

// headers builds NATS headers from key, value pairs.
func headers(kv ...string) nats.Header {
	h := nats.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// testIdentity is a new node identity.
func testIdentity(t testing.TB) *Identity {
	t.Helper()
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// testNodeBus is the bus of a node with a new identity.
func testNodeBus(t *testing.T, s *Server, drops *dropLog) (*Bus, string) {
	t.Helper()
	id := testIdentity(t)
	cfg := BusConfig{Embedded: s, Identity: id, Name: id.ID()}
	if drops != nil {
		cfg.OnDrop = drops.add
	}
	b, err := Connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, id.ID()
}

type fakeResponder struct{ state NodeState }

func (f fakeResponder) State() NodeState { return f.state }
func (f fakeResponder) BlocksAfter(req BlocksRequest) BlocksReply {
	return BlocksReply{TipHeight: uint64(len(req.Locator)), More: req.MaxBlocks > 1}
}
func (f fakeResponder) Inventory(req InvRequest) InvReply {
	return InvReply{Count: 2, Same: req.Count == 2, Hashes: []chain.Hash{req.After, {1}}}
}
func (f fakeResponder) PendingTxs(req TxsRequest) TxsReply {
	out := TxsReply{}
	for range req.Hashes {
		out.Txs = append(out.Txs, chain.Tx{Type: chain.TxTransfer, ID: f.state.NodeID})
	}
	return out
}

func TestBusBroadcastsAndHeaders(t *testing.T) {
	testkit.CheckGoroutines(t)
	s := startTestServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	var drops dropLog
	recv := testBusDrops(t, s, "recv", &drops)
	send := testBus(t, s, "send")

	txs := make(chan string, 10)
	if err := recv.Subscribe(Handlers{
		Tx:    func(from string, tx *chain.Tx) { txs <- from + "/" + tx.ID },
		Block: func(string, *chain.Block) {},
	}); err != nil {
		t.Fatal(err)
	}
	if err := send.PublishTx(&chain.Tx{Type: chain.TxTransfer, ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-txs:
		if got != "send/t1" {
			t.Errorf("got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tx not delivered")
	}

	pub, hdr := rawPublisher(t, s), headers
	good := `{"tx":{"type":"transfer","id":"t2","to":"","amount":0,"fee":0}}`
	pub("pycotr.tx", nil, good)                                                       // no headers
	pub("pycotr.tx", hdr(HeaderVersion, ProtocolVersion), good)                       // no node
	pub("pycotr.tx", hdr(HeaderVersion, "1", HeaderNode, "x"), good)                  // wrong version
	pub("pycotr.tx", hdr(HeaderVersion, ProtocolVersion, HeaderNode, "a.b"), good)    // bad node id
	pub("pycotr.tx", hdr(HeaderVersion, ProtocolVersion, HeaderNode, "recv"), good)   // our own id
	pub("pycotr.tx", hdr(HeaderVersion, ProtocolVersion, HeaderNode, "x"), good+"{}") // trailing
	pub("pycotr.tx", hdr(HeaderVersion, ProtocolVersion, HeaderNode, "x"), strings.Repeat(" ", MaxTxMessage+1))
	blk := BlockMessage{Block: chain.Block{Header: chain.Header{Height: 1}}}
	data, _ := Encode(blk) // Hash left zero: does not match the header
	pub("pycotr.block", hdr(HeaderVersion, ProtocolVersion, HeaderNode, "x"), string(data))
	pub("pycotr.tx", hdr(HeaderVersion, ProtocolVersion, HeaderNode, "x"), good) // finally a good one
	select {
	case got := <-txs:
		if got != "x/t2" {
			t.Errorf("got %q, want only the last, well-formed message", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("good tx not delivered")
	}
	testkit.Eventually(t, 5*time.Second, "every drop counted", func() bool {
		return drops.get(DropNoHeader) == 2 && drops.get(DropVersion) == 1 && drops.get(DropBadHeader) == 2 &&
			drops.get(DropDecode) == 2 && drops.get(DropTooLarge) == 1
	})
	select {
	case got := <-txs:
		t.Errorf("dropped message delivered: %q", got)
	default:
	}
}

func TestBusServeAndRequest(t *testing.T) {
	testkit.CheckGoroutines(t)
	a, b := clusterPair(t, true) // the service on one server, its clients on the other
	testkit.Eventually(t, 5*time.Second, "route up", func() bool { return a.NumRoutes() > 0 })
	var drops dropLog
	srv, n1 := testNodeBus(t, a, &drops)
	if err := srv.Serve(fakeResponder{NodeState{NodeID: n1, Work: "5"}}, nil); err != nil {
		t.Fatal(err)
	}
	other, n2 := testNodeBus(t, a, nil)
	if err := other.Serve(fakeResponder{NodeState{NodeID: n2, Work: "7"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := testBus(t, a, "no-identity").Serve(fakeResponder{}, nil); err == nil {
		t.Error("a bus without an identity served")
	}
	cli := testBus(t, b, "n3")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	var info *NodeState
	testkit.Eventually(t, 5*time.Second, "info across the route", func() bool {
		var err error
		info, err = cli.RequestInfo(ctx, n1)
		return err == nil
	})
	if info.NodeID != n1 {
		t.Errorf("info from %q", info.NodeID)
	}
	r, n, err := cli.RequestBlocks(ctx, n1, BlocksRequest{Locator: make([]chain.Hash, 3), MaxBlocks: 2})
	if err != nil || r.TipHeight != 3 || !r.More || n == 0 {
		t.Fatalf("blocks reply %+v, %d bytes, %v", r, n, err)
	}
	_, _, err = cli.RequestBlocks(ctx, n1, BlocksRequest{Locator: make([]chain.Hash, MaxLocator+1)})
	if err == nil {
		t.Error("oversized locator answered")
	}
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != 400 || re.Description != "locator or limits out of range" {
		t.Errorf("oversized locator: %v (%#v), want a RemoteError 400", err, re)
	}
	if _, _, err := cli.RequestBlocks(ctx, "nobody", BlocksRequest{}); err == nil {
		t.Error("request to no node succeeded")
	} else if errors.As(err, &re) {
		t.Errorf("no responders reported as a peer's refusal: %v", err)
	}
	inv, _, err := cli.RequestInv(ctx, n1, InvRequest{Count: 1, After: chain.Hash{7}, MaxHashes: 2})
	if err != nil || inv.Same || len(inv.Hashes) != 2 || inv.Hashes[0] != (chain.Hash{7}) {
		t.Fatalf("inventory reply %+v, %v", inv, err)
	}
	txs, _, err := cli.RequestTxs(ctx, n1, TxsRequest{Hashes: make([]chain.Hash, 3)})
	if err != nil || len(txs.Txs) != 3 || txs.Txs[0].ID != n1 {
		t.Fatalf("txs reply %+v, %v", txs, err)
	}
	if _, _, err = cli.RequestTxs(ctx, n1, TxsRequest{Hashes: make([]chain.Hash, MaxTxsRequest+1)}); !errors.As(err, &re) || re.Code != 400 {
		t.Errorf("oversized txs request: %v, want a RemoteError 400", err)
	}
	states, err := cli.GatherStates(ctx, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 {
		t.Fatalf("gathered %d states, want 2: %+v", len(states), states)
	}

	// Garbage requests are answered with an error and counted.
	raw, err := nats.Connect(a.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, ep := range []string{"blocks", "inv", "txs"} {
		m, err := raw.Request("pycotr.node."+n1+"."+ep, []byte("{not json"), 2*time.Second)
		if err != nil || m.Header.Get("Nats-Service-Error-Code") != "400" {
			t.Errorf("garbage %s request: %v, headers %v", ep, err, m)
		}
	}
	m, err := raw.RequestMsg(&nats.Msg{Subject: "pycotr.node." + n1 + ".info", Header: nats.Header{HeaderVersion: {"0"}}}, 2*time.Second)
	if err != nil || m.Header.Get("Nats-Service-Error-Code") != "400" {
		t.Errorf("wrong-version request: %v, headers %v", err, m)
	}
	testkit.Eventually(t, 5*time.Second, "request drops counted", func() bool {
		return drops.get(DropDecode) == 5 && drops.get(DropVersion) == 1
	})
}
