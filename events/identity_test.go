package events

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/internal/testkit"
)

func TestNodeIDIsAVersion8UUIDOfTheKey(t *testing.T) {
	for range 50 {
		id := testIdentity(t)
		u, err := uuid.Parse(id.ID())
		if err != nil || u.Version() != 8 || u.Variant() != uuid.RFC4122 || u.String() != id.ID() {
			t.Fatalf("id %q: %v, version %d, variant %v", id.ID(), err, u.Version(), u.Variant())
		}
		if !ValidNodeID(id.ID()) {
			t.Fatalf("id %q is not a subject token", id.ID())
		}
		again, err := IdentityFromKey(id.Key())
		if err != nil || again.ID() != id.ID() {
			t.Fatalf("the same key gave %q, then %q (%v)", id.ID(), again.ID(), err)
		}
	}
}

func TestVerifyRejectsWhatIsNotSignedByTheNamedNode(t *testing.T) {
	a, b := testIdentity(t), testIdentity(t)
	body := []byte(`{"node_id":"x"}`)
	signed := func(id *Identity, kind string, data []byte) nats.Header {
		h := nats.Header{}
		id.Sign(h, kind, data)
		return h
	}
	good := signed(a, KindPresence, body)
	if err := Verify(good, KindPresence, body); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	cases := map[string]func() (nats.Header, string, []byte){
		"other kind":   func() (nats.Header, string, []byte) { return good, KindConsensus, body },
		"other body":   func() (nats.Header, string, []byte) { return good, KindPresence, []byte(`{"node_id":"y"}`) },
		"no signature": func() (nats.Header, string, []byte) { h := clone(good); h.Del(HeaderSig); return h, KindPresence, body },
		"no key":       func() (nats.Header, string, []byte) { h := clone(good); h.Del(HeaderKey); return h, KindPresence, body },
		"spoofed id": func() (nats.Header, string, []byte) { // b's key and signature, a's id
			h := signed(b, KindPresence, body)
			h.Set(HeaderNode, a.ID())
			return h, KindPresence, body
		},
		"another's key": func() (nats.Header, string, []byte) { // a's id and key, b's signature
			h := clone(good)
			h.Set(HeaderSig, signed(b, KindPresence, body).Get(HeaderSig))
			return h, KindPresence, body
		},
		"not hex": func() (nats.Header, string, []byte) {
			h := clone(good)
			h.Set(HeaderSig, strings.Repeat("zz", ed25519.SignatureSize))
			return h, KindPresence, body
		},
	}
	for name, c := range cases {
		h, kind, data := c()
		if err := Verify(h, kind, data); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// TestGatherKeepsOneSignedReplyPerNode: a raw connection answers a gather
// many times: again and again as one node (its own key), as an honest
// node (its id, no key for it), with a body naming another node, and
// unsigned. Only the honest nodes' replies and one of the hostile node's
// are kept; the rest is dropped and counted.
func TestGatherKeepsOneSignedReplyPerNode(t *testing.T) {
	testkit.CheckGoroutines(t)
	s := startTestServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	honest, hid := testNodeBus(t, s, nil)
	if err := honest.Serve(fakeResponder{NodeState{NodeID: hid, Work: "5"}}, nil); err != nil {
		t.Fatal(err)
	}
	var drops dropLog
	cli := testBusDrops(t, s, "cli", &drops)

	raw := rawConn(t, s)
	fake := testIdentity(t)
	reply := func(m *nats.Msg, id *Identity, s NodeState, sign bool) {
		data, _ := Encode(s)
		h := nats.Header{}
		h.Set(HeaderVersion, ProtocolVersion)
		h.Set(HeaderNode, id.ID())
		if sign {
			id.Sign(h, KindConsensus, data)
		}
		m.RespondMsg(&nats.Msg{Header: h, Data: data})
	}
	if _, err := raw.Subscribe("pycotr.consensus", func(m *nats.Msg) {
		lie := NodeState{NodeID: fake.ID(), Work: strings.Repeat("9", 40)}
		for range 3 {
			reply(m, fake, lie, true) // one node, three times
		}
		reply(m, fake, NodeState{NodeID: hid, Work: lie.Work}, true) // signed by fake, body names the honest node
		spoof := lie
		spoof.NodeID = hid
		h := nats.Header{}
		h.Set(HeaderVersion, ProtocolVersion)
		fake.Sign(h, KindConsensus, []byte("x"))
		h.Set(HeaderNode, hid) // the honest id with fake's key
		data, _ := Encode(spoof)
		h.Set(HeaderSig, hex.EncodeToString(ed25519.Sign(fake.Key(), SignedBytes(KindConsensus, data))))
		m.RespondMsg(&nats.Msg{Header: h, Data: data})
		reply(m, fake, lie, false) // unsigned
	}); err != nil {
		t.Fatal(err)
	}
	raw.Flush()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	states, err := cli.GatherStates(ctx, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range states {
		if _, dup := got[s.NodeID]; dup {
			t.Errorf("two replies kept from %s", s.NodeID)
		}
		got[s.NodeID] = s.Work
	}
	if len(got) != 2 || got[hid] != "5" || got[fake.ID()] == "" {
		t.Errorf("gathered %v, want the honest node's true work and one reply from %s", got, fake.ID())
	}
	testkit.Eventually(t, 5*time.Second, "the drops counted", func() bool {
		return drops.get(DropDuplicate) == 2 && drops.get(DropIDMismatch) == 1 && drops.get(DropBadSignature) == 2
	})

	// Info: the reply must be signed by the node asked.
	info, err := cli.RequestInfo(ctx, hid)
	if err != nil || info.NodeID != hid {
		t.Fatalf("info %+v, %v", info, err)
	}
	if _, err := raw.Subscribe("pycotr.node."+fake.ID()+".info", func(m *nats.Msg) {
		reply(m, fake, NodeState{NodeID: fake.ID()}, false)
	}); err != nil {
		t.Fatal(err)
	}
	raw.Flush()
	if _, err := cli.RequestInfo(ctx, fake.ID()); err == nil {
		t.Error("an unsigned info reply was taken")
	}
}

// TestSpoofedPresenceIsDropped: a beat that names an honest node but is
// not signed with its key never reaches the handler.
func TestSpoofedPresenceIsDropped(t *testing.T) {
	testkit.CheckGoroutines(t)
	s := startTestServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	var drops dropLog
	recv, _ := testNodeBus(t, s, &drops)
	got := make(chan NodeState, 10)
	if err := recv.Subscribe(Handlers{Presence: func(from string, st *NodeState) { got <- *st }}); err != nil {
		t.Fatal(err)
	}
	honest, hid := testNodeBus(t, s, nil)
	raw := rawConn(t, s)
	thief := testIdentity(t)
	spoof := NodeState{NodeID: hid, URL: "http://thief.invalid"}
	data, _ := Encode(spoof)
	h := nats.Header{}
	h.Set(HeaderVersion, ProtocolVersion)
	thief.Sign(h, KindPresence, data)
	h.Set(HeaderNode, hid)
	if err := raw.PublishMsg(&nats.Msg{Subject: "pycotr.presence", Header: h, Data: data}); err != nil {
		t.Fatal(err)
	}
	h.Del(HeaderKey)
	h.Del(HeaderSig)
	if err := raw.PublishMsg(&nats.Msg{Subject: "pycotr.presence", Header: h, Data: data}); err != nil {
		t.Fatal(err)
	}
	if err := honest.PublishPresence(&NodeState{NodeID: hid, URL: "http://honest"}); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-got:
		if st.URL != "http://honest" {
			t.Errorf("beat delivered: %+v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the honest beat was not delivered")
	}
	testkit.Eventually(t, 5*time.Second, "both spoofed beats dropped as bad-signature", func() bool {
		return drops.get(DropBadSignature) == 2
	})
	select {
	case st := <-got:
		t.Errorf("a spoofed beat was delivered: %+v", st)
	default:
	}
}

// The worked example of docs/PROTOCOL.md §12: a fixed key, its node id, and
// the signature of a fixed beat. If the code changes a byte, this fails
// until the document is updated.
func TestProtocolSignatureExample(t *testing.T) {
	seed, _ := hex.DecodeString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60") // RFC 8032 test 1
	id, err := IdentityFromKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"node_id":"` + id.ID() + `"}`
	h := nats.Header{}
	id.Sign(h, KindPresence, []byte(body))
	doc, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"public key": hex.EncodeToString(id.PublicKey()),
		"node id":    id.ID(),
		"body":       body,
		"signed":     strings.ReplaceAll(string(SignedBytes(KindPresence, []byte(body))), "\x00", `\0`),
		"signature":  h.Get(HeaderSig),
		"version":    HeaderVersion + ": " + ProtocolVersion,
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/PROTOCOL.md lacks the example's %s %q", name, want)
		}
	}
}

func clone(h nats.Header) nats.Header {
	out := nats.Header{}
	for k, v := range h {
		out[k] = append([]string(nil), v...)
	}
	return out
}
