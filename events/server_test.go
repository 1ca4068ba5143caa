package events

import (
	"github.com/pycotr/pycotr/internal/testkit"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func startTestServer(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	s, err := StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func TestServerListenPortZero(t *testing.T) {
	testkit.CheckGoroutines(t)
	s := startTestServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	u := s.ClientURL()
	if !strings.HasPrefix(u, "nats://127.0.0.1:") || strings.HasSuffix(u, ":0") || strings.HasSuffix(u, ":-1") {
		t.Fatalf("client URL %q: want a real loopback port", u)
	}
	if s.RouteURL() != "" {
		t.Errorf("route URL %q without a cluster", s.RouteURL())
	}
	nc, err := nats.Connect(u)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if mp := nc.MaxPayload(); mp != DefaultMaxPayload {
		t.Errorf("max payload %d, want %d", mp, DefaultMaxPayload)
	}
}

func TestServerInProcess(t *testing.T) {
	testkit.CheckGoroutines(t)
	s := startTestServer(t, ServerConfig{})
	if s.ClientURL() != "" {
		t.Fatalf("in-process server has client URL %q", s.ClientURL())
	}
	b := testBus(t, s, "n1")
	if !b.Connected() {
		t.Fatal("in-process bus not connected")
	}
}

func TestServerConfigErrors(t *testing.T) {
	for name, cfg := range map[string]ServerConfig{
		"bad listen":          {Listen: "nohostport"},
		"bad port":            {Listen: "127.0.0.1:99999"},
		"routes, no cluster":  {Routes: []string{"nats-route://127.0.0.1:1"}},
		"bad cluster address": {Listen: "127.0.0.1:0", ClusterListen: "x"},
		"cluster, no listen":  {ClusterListen: "127.0.0.1:0"},
		"bad route":           {ClusterListen: "127.0.0.1:0", Routes: []string{"::"}},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := StartServer(cfg); err == nil {
				s.Shutdown()
				t.Fatal("started")
			}
		})
	}
	s := startTestServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	if err := s.AddRoutes("nats-route://127.0.0.1:1"); err == nil {
		t.Error("AddRoutes without a cluster listen address succeeded")
	}
}

// clusterPair starts two servers; routed says whether the second routes to
// the first from the start.
func clusterPair(t *testing.T, routed bool) (*Server, *Server) {
	t.Helper()
	a := startTestServer(t, ServerConfig{Name: "a", Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0"})
	if a.RouteURL() == "" {
		t.Fatal("no route URL")
	}
	cfg := ServerConfig{Name: "b", Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0"}
	if routed {
		cfg.Routes = []string{a.RouteURL()}
	}
	return a, startTestServer(t, cfg)
}

// crossDelivery reports whether a message published on b reaches a.
func crossDelivery(t *testing.T, a, b *Server, subject string) bool {
	t.Helper()
	na, err := nats.Connect(a.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer na.Close()
	nb, err := nats.Connect(b.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	sub, err := na.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	na.Flush()
	// Interest crosses the route asynchronously: publish until it arrives.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		nb.Publish(subject, []byte("hi"))
		if _, err := sub.NextMsg(20 * time.Millisecond); err == nil {
			return true
		}
	}
	return false
}

func TestServersRoutedIntoCluster(t *testing.T) {
	testkit.CheckGoroutines(t)
	a, b := clusterPair(t, true)
	testkit.Eventually(t, 5*time.Second, "route up", func() bool { return a.NumRoutes() > 0 && b.NumRoutes() > 0 })
	if !crossDelivery(t, a, b, "x.routed") {
		t.Fatal("no delivery across the route")
	}
}

func TestServerAddRoutesJoinsPartition(t *testing.T) {
	testkit.CheckGoroutines(t)
	a, b := clusterPair(t, false)
	na, err := nats.Connect(a.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer na.Close()
	sub, err := na.SubscribeSync("x.apart")
	if err != nil {
		t.Fatal(err)
	}
	na.Flush()
	nb, err := nats.Connect(b.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	nb.Publish("x.apart", []byte("lost"))
	nb.Flush()
	if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatal("message crossed between unrouted servers")
	}
	if a.NumRoutes() != 0 || b.NumRoutes() != 0 {
		t.Fatal("routes before AddRoutes")
	}

	if err := b.AddRoutes(a.RouteURL()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "route up", func() bool { return a.NumRoutes() > 0 && b.NumRoutes() > 0 })
	if !crossDelivery(t, a, b, "x.joined") {
		t.Fatal("no delivery after AddRoutes")
	}
	if err := b.AddRoutes("not a url"); err == nil {
		t.Error("bad route accepted")
	}
}
