package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/internal/testkit"
)

// TestLabCommandsAgainstANetwork: `pycotr lab isolate node-3 --for 30s`
// (a name, resolved through node-1's peers) cuts node-3 off, node-1 then
// lists it no more, `pycotr lab heal node-3` says to give its URL, and
// `pycotr lab heal URL` reconnects it; node-1 sees it back.
func TestLabCommandsAgainstANetwork(t *testing.T) {
	base := testkit.FreePorts(t, 3)
	startProc(t, "up", nil, "up", "--base-port", fmt.Sprint(base), "--pause", "0.3,0.4,0.5",
		"--nats-listen", fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), "--log-level", "info")
	url1, url3 := fmt.Sprintf("http://127.0.0.1:%d", base), fmt.Sprintf("http://127.0.0.1:%d", base+2)
	peers := func() []string {
		resp, err := http.Get(url1 + "/api/v1/peers")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var p struct{ Peers []struct{ Name string } }
		_ = json.NewDecoder(resp.Body).Decode(&p)
		var names []string
		for _, x := range p.Peers {
			names = append(names, x.Name)
		}
		return names
	}
	testkit.Eventually(t, 30*time.Second, "node-1 lists node-2 and node-3", func() bool { return len(peers()) == 2 })
	isolatedUntil := func() *time.Time {
		resp, err := http.Get(url3 + "/api/v1/node")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct {
			IsolatedUntil *time.Time `json:"isolated_until"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v.IsolatedUntil
	}

	w := &walletCLI{t: t, env: []string{"PYCOTR_NODE_URL=" + url1}}
	if r := w.run("lab", "isolate", "node-3", "--for", "11m"); r.code != 2 {
		t.Errorf("--for 11m: exit %d, want 2\n%s", r.code, r.stderr)
	}
	out := w.ok("lab", "isolate", "node-3", "--for", "30s")
	if !strings.Contains(out, fmt.Sprintf("node-3 (http://localhost:%d) is cut off the network until", base+2)) {
		t.Errorf("isolate said:\n%s", out)
	}
	if u := isolatedUntil(); u == nil || time.Until(*u) < 20*time.Second {
		t.Fatalf("node-3's isolated_until = %v after lab isolate", u)
	}
	testkit.Eventually(t, 15*time.Second, "node-1 no longer lists node-3", func() bool { return len(peers()) == 1 })
	if r := w.run("lab", "heal", "node-3"); r.code != 2 || !strings.Contains(r.stderr, "give its URL") {
		t.Errorf("heal by name while cut off: exit %d, want 2 and a hint\n%s", r.code, r.stderr)
	}
	if out := w.ok("lab", "heal", url3); !strings.Contains(out, "node-3 ("+url3+") rejoined the network") {
		t.Errorf("heal said:\n%s", out)
	}
	if u := isolatedUntil(); u != nil {
		t.Errorf("node-3's isolated_until = %v after lab heal", u)
	}
	testkit.Eventually(t, 15*time.Second, "node-1 lists node-3 again", func() bool { return len(peers()) == 2 })
}
