package compose

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// TestNodePermissionsSuffice runs the compose cluster's NATS users for
// real: a nats-server configured from nats-1.conf (its included auth.conf,
// the passwords from the environment as in the containers), on loopback
// and without its routes, and three Pycotr nodes that log in as node-1..3.
// The minimal permission set must be enough for a whole network — mining,
// relay, consensus, sync, presence and the micro service — with no
// permission violation, while the observer may read but not publish.
func TestNodePermissionsSuffice(t *testing.T) {
	for i := 1; i <= 3; i++ {
		t.Setenv(fmt.Sprintf("NODE%d_NATS_PASSWORD", i), fmt.Sprintf("test-node%d-pw", i))
	}
	t.Setenv("OBSERVER_NATS_PASSWORD", "test-observer-pw")
	dir := t.TempDir()
	for _, f := range []string{"nats-1.conf", "auth.conf"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts, err := server.ProcessConfigFile(filepath.Join(dir, "nats-1.conf"))
	if err != nil {
		t.Fatalf("nats-1.conf: %v", err)
	}
	if len(opts.Users) != 4 {
		t.Fatalf("nats-1.conf defines %d users, want node-1..3 and observer", len(opts.Users))
	}
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", -1, 0
	opts.Cluster, opts.Routes = server.ClusterOpts{}, nil
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}

	logs := &violationLog{}
	g := chaintest.Genesis(t, chaintest.Params(8))
	var nodes []*services.Node
	for i := 1; i <= 3; i++ {
		n, err := services.New(services.Config{
			Name: fmt.Sprintf("node-%d", i), PublicURL: fmt.Sprintf("http://127.0.0.1:%d", 3000+i),
			MinerKey: testkit.Key(i), Genesis: g,
			NATSServers:      []string{srv.ClientURL()},
			NATSAuth:         events.ClientAuth{User: fmt.Sprintf("node-%d", i), Password: fmt.Sprintf("test-node%d-pw", i)},
			PresenceInterval: 100 * time.Millisecond, ConsensusInterval: 500 * time.Millisecond, GatherStall: 100 * time.Millisecond,
			Miner:  miner.Settings{Pause: 50 * time.Millisecond, Autostart: i == 1},
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatalf("node-%d: %v", i, err)
		}
		t.Cleanup(func() { n.Close() })
		nodes = append(nodes, n)
	}
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
	if v := logs.String(); strings.Contains(strings.ToLower(v), "permission") {
		t.Fatalf("a node hit a permission violation:\n%s", v)
	}

	// The observer reads the network but may not publish on it.
	errs := make(chan error, 4)
	obs, err := nats.Connect(srv.ClientURL(), nats.UserInfo("observer", "test-observer-pw"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	sub, err := obs.SubscribeSync("pycotr.>")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("the observer reads nothing: %v", err)
	}
	if err := obs.Publish("pycotr.block", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	obs.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("observer publish: %v, want a permissions violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the observer published on pycotr.block without a permissions violation")
	}
	if _, err := nats.Connect(srv.ClientURL(), nats.UserInfo("node-1", "wrong")); err == nil {
		t.Fatal("a wrong password was accepted")
	}
}

// violationLog collects the nodes' warnings.
type violationLog struct {
	mu sync.Mutex
	sb strings.Builder
}

func (l *violationLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.Write(p)
}

func (l *violationLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.String()
}
