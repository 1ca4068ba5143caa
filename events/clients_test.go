package events

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/internal/testkit"
)

// A server reports, per named client connection, what it delivered to
// that client (headers + payload) and what the client published.
func TestClientTraffic(t *testing.T) {
	testkit.CheckGoroutines(t)
	s := startTestServer(t, ServerConfig{})
	connect := func(name string) *nats.Conn {
		t.Helper()
		nc, err := nats.Connect("", nats.Name(name), nats.InProcessServer(s.inProcess()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	pub, sub1, sub2 := connect("pub"), connect("sub1"), connect("sub2")
	for _, nc := range []*nats.Conn{sub1, sub2} {
		if _, err := nc.Subscribe("net.>", func(*nats.Msg) {}); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sub2.Subscribe("net.only2", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := sub2.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*nats.Msg{
		{Subject: "net.tx", Data: []byte("12345")},
		{Subject: "net.only2", Data: []byte("123")},
		{Subject: "other", Data: []byte("nobody")},
	} {
		if err := pub.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(); err != nil {
		t.Fatal(err)
	}
	want := map[string]ClientTraffic{
		"pub":  {Name: "pub", In: Traffic{Msgs: 3, Bytes: 14}},
		"sub1": {Name: "sub1", Out: Traffic{Msgs: 2, Bytes: 8}},
		"sub2": {Name: "sub2", Out: Traffic{Msgs: 3, Bytes: 11}}, // net.only2 twice: two subscriptions
	}
	testkit.Eventually(t, 5*time.Second, "every delivery counted", func() bool {
		got, err := s.ClientTraffic()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			return false
		}
		for _, c := range got {
			if c != want[c.Name] {
				return false
			}
		}
		return true
	})
}
