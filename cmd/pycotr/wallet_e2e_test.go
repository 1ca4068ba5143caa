package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/testkit"
)

// walletCLI runs the built binary's wallet and explorer commands against
// one node with one wallet file, and keeps every output it saw.
type walletCLI struct {
	t       *testing.T
	env     []string
	outputs []string // stdout and stderr of every command but export
}

type cliResult struct {
	stdout, stderr string
	code           int
}

func (w *walletCLI) run(args ...string) cliResult {
	w.t.Helper()
	cmd := exec.Command(pycotrBin, args...)
	cmd.Env = append(os.Environ(), w.env...)
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatalf("pycotr %s: %v", strings.Join(args, " "), err)
	}
	if args[0] != "wallet" || args[1] != "export" {
		w.outputs = append(w.outputs, r.stdout, r.stderr)
	}
	return r
}

// ok runs a command that must succeed and returns its stdout.
func (w *walletCLI) ok(args ...string) string {
	w.t.Helper()
	r := w.run(args...)
	if r.code != 0 {
		w.t.Fatalf("pycotr %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (w *walletCLI) json(v any, args ...string) {
	w.t.Helper()
	out := w.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		w.t.Fatalf("pycotr %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type balanceJSON struct {
	Name      string `json:"name"`
	Balance   int64  `json:"balance"`
	Spendable int64  `json:"spendable"`
}

type historyJSON struct {
	Status string `json:"status"`
	Change int64  `json:"change"`
	Tx     struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"tx"`
}

// settled reports whether a wallet's history (confirmed, nothing pending)
// adds up to want and to its balance, and holds the transactions of ids.
func (w *walletCLI) settled(name string, want int64, ids ...string) bool {
	var b balanceJSON
	w.json(&b, "wallet", "balance", name)
	var hist []historyJSON
	w.json(&hist, "wallet", "history", name)
	var sum int64
	seen := map[string]bool{}
	for _, h := range hist {
		if h.Status != "confirmed" {
			return false
		}
		sum += h.Change
		seen[h.Tx.ID] = true
	}
	for _, id := range ids {
		if !seen[id] {
			return false
		}
	}
	return b.Balance == want && b.Spendable == want && sum == want && len(hist) == len(ids)
}

var confirmedRE = regexp.MustCompile(`confirmed in block (\d+) ([0-9a-f]{64})`)
var txRE = regexp.MustCompile(`(?m)^tx ([0-9a-f-]{36})$`)

// TestWalletAgainstANetwork drives the wallet as a user would, through the
// built binary, against `pycotr up`: two wallets, a card purchase and a
// transfer followed with --wait, balances, history, the explorer; the
// wallet file is 0600 and no private key appears in any output or log but
// `wallet export`'s.
func TestWalletAgainstANetwork(t *testing.T) {
	base := testkit.FreePorts(t, 3)
	up := startProc(t, "up", nil, "up", "--base-port", fmt.Sprint(base), "--pause", "0.2,0.3,0.4",
		"--nats-listen", fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), "--log-level", "info")
	nodeURL := fmt.Sprintf("http://127.0.0.1:%d", base)
	testkit.Eventually(t, 30*time.Second, "node-1 answers and mines", func() bool {
		resp, err := http.Get(nodeURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return v1Node(t, nodeURL).Height >= 2
	})

	walletFile := filepath.Join(t.TempDir(), "config", "pycotr", "wallet.json")
	w := &walletCLI{t: t, env: []string{"PYCOTR_WALLET_FILE=" + walletFile, "PYCOTR_NODE_URL=" + nodeURL}}

	w.ok("wallet", "new", "--name", "alice")
	w.ok("wallet", "new", "--name", "bob")
	if r := w.run("wallet", "new", "--name", "bob"); r.code != 2 {
		t.Errorf("a second bob: exit %d, want 2", r.code)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(walletFile)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("wallet file mode %04o, want 0600", st.Mode().Perm())
		}
	}
	var list []struct{ Name, Address string }
	w.json(&list, "wallet", "list")
	if len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" {
		t.Fatalf("wallet list = %+v", list)
	}
	if addr := strings.TrimSpace(w.ok("wallet", "address", "bob")); addr != list[1].Address {
		t.Fatalf("wallet address bob = %.20q, want %.20q", addr, list[1].Address)
	}

	// A card purchase, then a transfer to bob's address, both followed.
	out := w.ok("wallet", "buy", "alice", "--amount", "100", "--card", "4111 1111 1111 1111", "--expiry", "2099-12",
		"--cvv", "123", "--wait", "--timeout", "60s")
	if !confirmedRE.MatchString(out) || !txRE.MatchString(out) {
		t.Fatalf("buy --wait printed no block:\n%s", out)
	}
	buyID := txRE.FindStringSubmatch(out)[1]
	out = w.ok("wallet", "send", "alice", "--to", list[1].Address, "--amount", "40", "--fee", "2", "--wait", "--timeout", "60s")
	m := confirmedRE.FindStringSubmatch(out)
	if m == nil || !txRE.MatchString(out) {
		t.Fatalf("send --wait printed no block:\n%s", out)
	}
	sendID := txRE.FindStringSubmatch(out)[1]
	var block struct {
		Hash         string `json:"hash"`
		Height       uint64 `json:"height"`
		Transactions []struct {
			ID string `json:"id"`
		} `json:"transactions"`
	}
	w.json(&block, "block", m[2])
	if block.Hash != m[2] || fmt.Sprint(block.Height) != m[1] || !strings.Contains(fmt.Sprint(block.Transactions), sendID) {
		t.Fatalf("block %s is %+v, want height %s holding %s", m[2], block, m[1], sendID)
	}

	// Balances and histories: alice paid 40 and a fee of 2 out of 100.
	// (Blocks come every fraction of a second; a short fork may put a
	// transaction back in the mempool for a moment.)
	testkit.Eventually(t, 30*time.Second, "alice has 58 and bob 40, histories adding up", func() bool {
		return w.settled("alice", 58, buyID, sendID) && w.settled("bob", 40, sendID)
	})
	out = w.ok("wallet", "balance")
	for _, want := range []string{"alice", "58", "bob", "40"} {
		if !strings.Contains(out, want) {
			t.Errorf("wallet balance does not show %q:\n%s", want, out)
		}
	}
	out = w.ok("wallet", "history", "bob")
	if !strings.Contains(out, sendID) || !strings.Contains(out, "alice") || !strings.Contains(out, "+40") {
		t.Errorf("bob's history does not show alice's 40:\n%s", out)
	}

	// The explorer.
	if out := w.ok("tx", sendID); !strings.Contains(out, "confirmed in block") || !strings.Contains(out, "bob") {
		t.Errorf("tx %s:\n%s", sendID, out)
	}
	if out := w.ok("chain", "--blocks", "3"); !strings.Contains(out, "HEIGHT") || !strings.Contains(out, "node-1") {
		t.Errorf("chain:\n%s", out)
	}
	w.ok("mempool")
	w.ok("block", "0")

	// The node's refusal is one clear line, exit 1.
	r := w.run("wallet", "send", "bob", "--to", "alice", "--amount", "1000")
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "insufficient-funds") {
		t.Errorf("overspending: exit %d, stderr %q; want exit 1 and one line naming insufficient-funds", r.code, r.stderr)
	}
	if r := w.run("tx", "00000000-0000-0000-0000-000000000000"); r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Errorf("unknown tx: exit %d, stderr %q", r.code, r.stderr)
	}

	// The keys: only export prints them, nothing else shows them.
	var keys []string
	for _, name := range []string{"alice", "bob"} {
		r := w.run("wallet", "export", name)
		key := strings.TrimSpace(r.stdout)
		if r.code != 0 || len(key) < 1000 || !strings.Contains(r.stderr, "warning") {
			t.Fatalf("export %s: exit %d, %d characters, stderr %q", name, r.code, len(key), r.stderr)
		}
		keys = append(keys, key)
	}
	data, err := os.ReadFile(walletFile)
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range keys {
		if !strings.Contains(string(data), key) {
			t.Fatalf("exported key %d is not the one in the wallet file", i)
		}
		k, err := chain.ParsePrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		// The whole key, and its private exponent (the key's DER holds the
		// modulus too, which is public: part of the address).
		for _, needle := range []string{key, hex.EncodeToString(k.D.Bytes())[:64]} {
			for _, o := range append(w.outputs, up.log.String()) {
				if strings.Contains(o, needle) {
					t.Fatalf("private key %d appears in an output or log:\n%.300s", i, o)
				}
			}
		}
	}
}
