package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/testkit"
)

func TestParseTakesFlagsAndArgumentsInAnyOrder(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		pos     []string
		to      string
		wantErr error
	}{
		{"name first", []string{"alice", "--to", "bob"}, []string{"alice"}, "bob", nil},
		{"flags first", []string{"--to", "bob", "alice"}, []string{"alice"}, "bob", nil},
		{"after --", []string{"--to", "bob", "--", "-odd"}, []string{"-odd"}, "bob", nil},
		{"help word", []string{"help"}, nil, "", flag.ErrHelp},
		{"-h after a name", []string{"alice", "-h"}, nil, "", flag.ErrHelp},
		{"too many", []string{"alice", "bob"}, nil, "", UsageError{}},
		{"too few", []string{"--to", "bob"}, nil, "", UsageError{}},
		{"unknown flag", []string{"alice", "--nope"}, nil, "", UsageError{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(io.Discard, io.Discard)
			fs := e.newFlags(spec{path: "x", args: "NAME --to T", summary: "x"})
			to := fs.String("to", "", "")
			pos, err := parse(fs, c.args, 1, 1)
			switch want := c.wantErr.(type) {
			case nil:
				if err != nil || !slices.Equal(pos, c.pos) || *to != c.to {
					t.Fatalf("got %q, --to %q, %v", pos, *to, err)
				}
			case UsageError:
				if !errors.As(err, &want) {
					t.Fatalf("got %v, want a usage error", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("got %v, want %v", err, want)
				}
			}
		})
	}
}

func TestNodeErrorsAreOneLine(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/txs/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"type":"urn:pycotr:problem:not-found","title":"Not Found","status":404,`+
			`"detail":"no transaction\n\"x\" pending","code":"not-found","request_id":"r1"}`)
	})
	mux.HandleFunc("/api/v1/mempool", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>\n<body>bad gateway</body>\n</html>")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Tx(context.Background(), "x")
	var p *ProblemError
	if !errors.As(err, &p) || p.Code != "not-found" || !isNotFound(err) {
		t.Fatalf("got %v, want a 404 problem", err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, `404 not-found): no transaction "x" pending`) {
		t.Errorf("problem as %q", msg)
	}
	_, _, err = c.Mempool(context.Background())
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "502") {
		t.Errorf("a non-problem error as %q", err)
	}
	srv.Close()
	_, _, err = c.Node(context.Background())
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("an absent node as %q", err)
	}
	if _, err := NewClient("localhost:3001"); !errors.As(err, new(UsageError)) {
		t.Errorf("a URL without a scheme: %v, want a usage error", err)
	}
}

func TestChangeIsTheEffectOnTheBalance(t *testing.T) {
	a, b := chain.Address("aa"), chain.Address("bb")
	cases := []struct {
		name string
		tx   chain.Tx
		a, b int64
	}{
		{"transfer", chain.Tx{Type: chain.TxTransfer, From: a, To: b, Amount: 40, Fee: 2}, -42, 40},
		{"to oneself", chain.Tx{Type: chain.TxTransfer, From: a, To: a, Amount: 40, Fee: 2}, -2, 0},
		{"purchase", chain.Tx{Type: chain.TxMint, From: a, To: a, Amount: 100, Fee: 1}, 99, 0},
		{"reward", chain.Tx{Type: chain.TxReward, To: b, Amount: 12}, 0, 12},
	}
	for _, c := range cases {
		if got := change(c.tx, a); got != c.a {
			t.Errorf("%s: change for a = %d, want %d", c.name, got, c.a)
		}
		if got := change(c.tx, b); got != c.b {
			t.Errorf("%s: change for b = %d, want %d", c.name, got, c.b)
		}
	}
}

func TestShortAddressShowsTheKeysOwnDigits(t *testing.T) {
	x, y := chain.AddressOf(&testkit.Key(0).PublicKey), chain.AddressOf(&testkit.Key(1).PublicKey)
	if shortAddress(x) == shortAddress(y) {
		t.Fatalf("two keys abbreviate alike: %s", shortAddress(x))
	}
	if s := shortAddress(x); !strings.Contains(string(x), strings.TrimPrefix(s, "…")) || len([]rune(s)) != 13 {
		t.Errorf("shortAddress = %q", s)
	}
	if shortAddress("") != "-" || shortAddress("abc") != "abc" {
		t.Error("short inputs")
	}
}

// TestImportExportKeepTheKey: a key imported from standard input is the
// one export prints, and no other command prints it.
func TestImportExportKeepTheKey(t *testing.T) {
	t.Setenv("PYCOTR_WALLET_FILE", filepath.Join(t.TempDir(), "w.json"))
	key := chain.EncodePrivateKey(testkit.Key(4))
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(key + "\n"), stdout: &out, stderr: &errOut, now: time.Now}
	ctx := context.Background()
	if err := walletGroup.dispatch(ctx, e, []string{"import", "carol"}); err != nil {
		t.Fatal(err)
	}
	if err := walletGroup.dispatch(ctx, e, []string{"list"}); err != nil {
		t.Fatal(err)
	}
	if err := walletGroup.dispatch(ctx, e, []string{"address", "carol"}); err != nil {
		t.Fatal(err)
	}
	secret := hex.EncodeToString(testkit.Key(4).D.Bytes())[:64] // the private exponent
	if strings.Contains(out.String()+errOut.String(), secret) {
		t.Fatal("import, list or address printed the key")
	}
	out.Reset()
	if err := walletGroup.dispatch(ctx, e, []string{"export", "carol"}); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != key {
		t.Fatal("export does not print the imported key")
	}
	e.stdin = strings.NewReader("not a key\n")
	if err := walletGroup.dispatch(ctx, e, []string{"import", "dave"}); !errors.As(err, new(UsageError)) {
		t.Fatalf("a bad key: %v, want a usage error", err)
	}
}
