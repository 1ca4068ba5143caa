package events

import (
	"maps"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/internal/testkit"
)

// The counter sees every subject of its network and every reply, by kind,
// with headers counted, and nothing of another network.
func TestTrafficCounter(t *testing.T) {
	testkit.CheckGoroutines(t)
	s := startTestServer(t, ServerConfig{})
	c, err := CountTraffic(s, Subjects{Prefix: "net"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := nats.Connect("", nats.InProcessServer(s.inProcess()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	pub := func(subject string, h nats.Header, data string) {
		t.Helper()
		if err := raw.PublishMsg(&nats.Msg{Subject: subject, Header: h, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	hdr := nats.Header{}
	hdr.Set(HeaderNode, "n1")
	pub("net.tx", nil, "12345")
	pub("net.tx", nil, "123")
	pub("net.block", hdr, "1234567890")
	pub("net.node.n1.blocks", nil, "ab")
	pub("net.node.n1.info", nil, "")
	pub(nats.InboxPrefix+"abc.1", nil, "reply")
	pub("other.tx", nil, "not ours")
	pub("pycotr.tx", nil, "not ours either")
	want := map[string]Traffic{
		"tx":               {Msgs: 2, Bytes: 8},
		TrafficSyncRequest: {Msgs: 1, Bytes: 2},
		TrafficInfoRequest: {Msgs: 1, Bytes: 0},
		TrafficReply:       {Msgs: 1, Bytes: 5},
	}
	var got map[string]Traffic
	testkit.Eventually(t, 5*time.Second, "every message counted", func() bool {
		got = c.Counts()
		return len(got) == len(want)+1 && got["block"].Msgs == 1
	})
	block := got["block"]
	delete(got, "block")
	if !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	if block.Bytes <= 10 {
		t.Errorf("block: %d bytes, want the 10 of the payload and its header's", block.Bytes)
	}
	c.Reset()
	if n := len(c.Counts()); n != 0 {
		t.Errorf("%d kinds after Reset, want none", n)
	}
}
