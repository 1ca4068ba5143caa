package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/httpapi"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// chromiumPath is where Debian's chromium package puts the browser; CI
// installs it (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// TestDashboard drives the built-in dashboard in a headless Chromium
// against a real three-node cluster: the network view shows the nodes and
// their growing heights; a wallet made in the browser buys 100 coins with
// a test card and sends 40 to a second in-browser wallet; both balances
// are then shown; a rival block published by a peer for node 1's tip shows
// in the live event log as a side block. It also checks that the browser's signing bytes and card
// fields are byte for byte chain's, and that a browser signature verifies
// in Go. Any console error or uncaught exception fails the test.
func TestDashboard(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the dashboard test needs Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	start := time.Now()
	urls, nodes, natsURL := startDashboardCluster(t)
	artifacts := artifactDir(t)

	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("mute-audio", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	b := &browser{t: t}
	var cancelBrowser context.CancelFunc
	b.ctx, cancelBrowser = chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser) // runs first: the browser goes before the servers
	b.do("start the browser")
	b.watchConsole()

	b.do("open the dashboard", chromedp.Navigate(urls[0]+"/#/network"), chromedp.WaitVisible(chromedp.CSS(`#nodes`)))

	// --- the network view: three nodes, heights growing ---------------
	first := waitFor[[]int](b, "three nodes with a height", `(() => {
		const hs = [...document.querySelectorAll('#nodes .node [data-field="height"]')].map(e => parseInt(e.textContent.replace(/,/g, ''), 10));
		return hs.length === 3 && hs.every(h => h >= 1) ? hs : false;
	})()`, 20*time.Second)
	waitFor[bool](b, "heights grow", fmt.Sprintf(`(() => {
		const hs = [...document.querySelectorAll('#nodes .node [data-field="height"]')].map(e => parseInt(e.textContent.replace(/,/g, ''), 10));
		const first = %s;
		return hs.length === 3 && hs.every((h, i) => h >= first[i] + 2);
	})()`, mustJSON(t, first)), 20*time.Second)
	names := eval[[]string](b, "node names", `[...document.querySelectorAll('#nodes .node h2')].map(e => e.textContent)`)
	if strings.Join(names, ",") != "node-1,node-2,node-3" {
		t.Errorf("network view shows nodes %q, want node-1, node-2, node-3", names)
	}
	waitFor[bool](b, "charts drawn", `document.querySelectorAll('#chart-height path.series').length === 3 && document.querySelectorAll('#chart-won rect').length >= 1`, 10*time.Second)

	// --- miner controls, on other nodes (their own URLs, CORS) --------
	b.do("stop node-3's miner", chromedp.Click(chromedp.CSS(`#nodes .node:nth-child(3) button.toggle`)))
	waitFor[bool](b, "node-3 shown stopped", `document.querySelector('#nodes .node:nth-child(3) [data-field="mining"]').textContent === 'stopped'`, 10*time.Second)
	if nodes[2].Miner().Mining() {
		t.Error("node-3 still mines after Stop mining")
	}
	b.do("start node-3's miner", chromedp.Click(chromedp.CSS(`#nodes .node:nth-child(3) button.toggle`)))
	waitFor[bool](b, "node-3 shown mining", `document.querySelector('#nodes .node:nth-child(3) [data-field="mining"]').textContent === 'mining'`, 10*time.Second)
	b.do("set node-2's pause",
		chromedp.Focus(chromedp.CSS(`#nodes .node:nth-child(2) .pause-form input`)),
		chromedp.Evaluate[chromedp.Void](`document.activeElement.select()`),
		chromedp.SendKeys(chromedp.CSS(`#nodes .node:nth-child(2) .pause-form input`), "0.35"),
		chromedp.Click(chromedp.CSS(`#nodes .node:nth-child(2) .pause-form button`)))
	waitFor[bool](b, "node-2 shows the new pause", `document.querySelector('#nodes .node:nth-child(2) [data-field="pauseShown"]').textContent === '0.35 s'`, 10*time.Second)
	if !nodes[2].Miner().Mining() || nodes[1].Miner().Pause() != 350*time.Millisecond {
		t.Errorf("after the controls: node-3 mining %v (want true), node-2 pause %s (want 350ms)", nodes[2].Miner().Mining(), nodes[1].Miner().Pause())
	}

	// --- the browser's protocol code against chain's -------------------
	checkProtocolParity(t, b)

	// --- wallet: create, buy 100, second wallet, send 40 ---------------
	b.do("open the wallet", chromedp.Navigate(urls[0]+"/#/wallet"), chromedp.WaitVisible(chromedp.CSS(`#create-wallet`)))
	b.do("create wallet 1", chromedp.Click(chromedp.CSS(`#create-wallet`)))
	addrs := waitFor[[]string](b, "wallet 1 listed", `(() => { const a = [...document.querySelectorAll('#wallet-table tbody tr')].map(r => r.dataset.address); return a.length === 1 && a; })()`, 20*time.Second)
	w1 := addrs[0]
	pub, err := chain.ParseAddress(chain.Address(w1))
	if err != nil {
		t.Fatalf("the browser's address is not a valid chain address: %v", err)
	}
	if pub.N.BitLen() != 2048 || pub.E != 65537 {
		t.Errorf("browser key: %d bits, exponent %d; want 2048, 65537", pub.N.BitLen(), pub.E)
	}

	b.do("buy 100 with a test card",
		chromedp.SetValue(chromedp.CSS(`#buy-wallet`), w1),
		chromedp.SetValue(chromedp.CSS(`#buy-amount`), "100"),
		chromedp.SetValue(chromedp.CSS(`#buy-fee`), "0"),
		chromedp.SendKeys(chromedp.CSS(`#card-number`), "4111 1111 1111 1111"),
		chromedp.SendKeys(chromedp.CSS(`#card-expiry`), "2099-12"),
		chromedp.SendKeys(chromedp.CSS(`#card-cvv`), "123"),
		chromedp.SendKeys(chromedp.CSS(`#card-holder`), "Test Buyer"),
		chromedp.Click(chromedp.CSS(`#buy-submit`)),
	)
	if r := waitFor[string](b, "the purchase is answered", resultOf("#buy-result"), 15*time.Second); !strings.HasPrefix(r, "ok: ") {
		t.Fatalf("buying coins: %s", r)
	}
	waitFor[bool](b, "wallet 1 holds 100", balanceIs(w1, "100"), 20*time.Second)

	b.do("create wallet 2", chromedp.Click(chromedp.CSS(`#create-wallet`)))
	addrs = waitFor[[]string](b, "wallet 2 listed", `(() => { const a = [...document.querySelectorAll('#wallet-table tbody tr')].map(r => r.dataset.address); return a.length === 2 && a; })()`, 20*time.Second)
	w2 := addrs[1]
	if w2 == w1 {
		t.Fatal("the two wallets have the same address")
	}
	b.do("send 40 to wallet 2",
		chromedp.SetValue(chromedp.CSS(`#send-from`), w1),
		chromedp.SetValue(chromedp.CSS(`#send-to`), w2),
		chromedp.SetValue(chromedp.CSS(`#send-amount`), "40"),
		chromedp.SetValue(chromedp.CSS(`#send-fee`), "0"),
		chromedp.Click(chromedp.CSS(`#send-submit`)),
	)
	if r := waitFor[string](b, "the transfer is answered", resultOf("#send-result"), 15*time.Second); !strings.HasPrefix(r, "ok: ") {
		t.Fatalf("sending coins: %s", r)
	}
	waitFor[bool](b, "balances 60 and 40 after the next block",
		fmt.Sprintf("(%s) && (%s)", balanceIs(w1, "60"), balanceIs(w2, "40")), 20*time.Second)
	waitFor[bool](b, "both transactions confirmed in the activity list",
		`document.querySelectorAll('#wallet-activity li[data-status="confirmed"]').length === 2`, 10*time.Second)
	b.screenshot(artifacts, "dashboard-wallet.png")

	// --- explorer: search the transfer, then the address --------------
	txID := eval[string](b, "transfer id", `document.querySelector('#wallet-activity li').dataset.txId`)
	b.do("search the transfer", chromedp.SetValue(chromedp.CSS(`#search`), txID), chromedp.Click(chromedp.CSS(`#search-form button`)))
	txText := waitFor[string](b, "the transaction page", `(() => { const d = document.querySelector('#tx-detail'); return d && !document.querySelector('#view-explorer').hidden && d.innerText; })()`, 10*time.Second)
	if !strings.Contains(txText, "confirmed") || !strings.Contains(txText, "transfer") || !strings.Contains(txText, "40") {
		t.Errorf("the transaction page does not show a confirmed transfer of 40:\n%s", txText)
	}
	b.do("search wallet 2", chromedp.SetValue(chromedp.CSS(`#search`), w2), chromedp.Click(chromedp.CSS(`#search-form button`)))
	waitFor[bool](b, "the address page shows 40", `(() => { const d = document.querySelector('#address-detail [data-field="balance"]'); return d && d.textContent === '40'; })()`, 10*time.Second)
	b.do("latest blocks", chromedp.Navigate(urls[0]+"/#/explorer"))
	waitFor[bool](b, "the blocks table", `document.querySelectorAll('#blocks-table tbody tr').length >= 5`, 10*time.Second)
	b.screenshot(artifacts, "dashboard-explorer.png")

	// --- live chain, then the network view with everything drawn -------
	b.do("live chain", chromedp.Navigate(urls[0]+"/#/live"))
	waitFor[bool](b, "blocks in the live feed", `document.querySelectorAll('#live-blocks li[data-height]').length >= 3`, 10*time.Second)
	showsSideBlock(t, b, nodes[0], natsURL)
	b.screenshot(artifacts, "dashboard-live.png")
	b.do("network view", chromedp.Navigate(urls[0]+"/#/network"))
	waitFor[bool](b, "network view drawn", `document.querySelectorAll('#nodes .node').length === 3 && document.querySelectorAll('#chart-height path.series').length === 3`, 10*time.Second)
	b.screenshot(artifacts, "dashboard-network.png")

	// --- "remember": only a ticked wallet survives a reload --------------
	b.do("back to the wallet", chromedp.Navigate(urls[0]+"/#/wallet"), chromedp.WaitVisible(chromedp.CSS(`#create-wallet`)))
	b.do("create a remembered wallet", chromedp.Click(chromedp.CSS(`#remember`)), chromedp.Click(chromedp.CSS(`#create-wallet`)))
	waitFor[bool](b, "wallet 3 listed", `document.querySelectorAll('#wallet-table tbody tr').length === 3`, 20*time.Second)
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#create-wallet`)))
	kept := waitFor[[]string](b, "the remembered wallet after a reload", `(() => { const r = [...document.querySelectorAll('#wallet-table tbody tr')]; return r.length > 0 && r.every(x => x.querySelector('.balance').textContent !== '…') && r.map(x => x.dataset.label + ' ' + x.querySelector('.balance').textContent); })()`, 10*time.Second)
	if len(kept) != 1 || kept[0] != "Wallet 3 0" {
		t.Errorf("after a reload the page lists %q, want only the remembered Wallet 3 with balance 0", kept)
	}

	b.checkConsole("browser console")
	t.Logf("dashboard test took %s", time.Since(start).Round(time.Millisecond))
}

// browser is the test's tab, with the console problems it has seen.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// watchConsole records console errors, uncaught exceptions and browser log
// errors (failed loads, CSP violations) for checkConsole.
func (b *browser) watchConsole() {
	msgs := chromedp.Console(b.ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
}

func (b *browser) checkConsole(stage string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("%s: %s", stage, p)
	}
	b.problems = nil
}

// pageText is the start of the visible text, for failure messages.
func (b *browser) pageText() string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText.slice(0, 3000)`))
	return s
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.checkConsole(what)
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	// Let the page lay out what the last change drew, from the top.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](
		`window.scrollTo(0, 0), new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r())))`,
		chromedp.EvalAwaitPromise)); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}

func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.checkConsole(what)
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitFor polls a JavaScript expression in the page until it is truthy,
// and returns its value.
func waitFor[T any](b *browser, what, expr string, within time.Duration) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Poll[T](expr,
		chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		b.checkConsole(what)
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, b.pageText())
	}
	return v
}

// resultOf waits for a form's result line and gives "ok: text" or "bad: text".
func resultOf(sel string) string {
	return fmt.Sprintf(`(() => { const r = document.querySelector(%q);
		return r.classList.contains('ok') ? 'ok: ' + r.textContent : r.classList.contains('bad') ? 'bad: ' + r.textContent : false; })()`, sel)
}

// balanceIs is true when the wallet table shows the balance for addr.
func balanceIs(addr, want string) string {
	return fmt.Sprintf(`document.querySelector('#wallet-table tr[data-address="%s"] .balance')?.textContent === %q`, addr, want)
}

// startDashboardCluster starts three nodes on an embedded NATS server,
// each behind its own HTTP server, and returns their URLs. Listeners come
// first so that each node knows its public URL.
func startDashboardCluster(t *testing.T) (urls []string, nodes []*services.Node, natsURL string) {
	t.Helper()
	g := chaintest.Genesis(t, dashboardParams)
	var (
		listeners []net.Listener
		cfg       = services.ClusterConfig{NATS: events.ServerConfig{Listen: "127.0.0.1:0"}}
	)
	for i := range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners = append(listeners, l)
		urls = append(urls, "http://"+l.Addr().String())
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Nodes = append(cfg.Nodes, services.Config{
			Name:              fmt.Sprintf("node-%d", i+1),
			PublicURL:         urls[i],
			MinerKey:          k,
			Genesis:           g,
			PresenceInterval:  200 * time.Millisecond,
			ConsensusInterval: time.Second,
			GatherStall:       100 * time.Millisecond,
			Miner:             miner.Settings{Mode: miner.ModePaced, Pause: time.Duration(300+100*i) * time.Millisecond, Autostart: true},
		})
	}
	cl, err := services.StartCluster(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	for i, n := range cl.Nodes {
		srv := httptest.NewUnstartedServer(httpapi.New(httpapi.Config{Node: n, Chain: n.Chain(), Miner: n.Miner(), Peers: n.Peers(), CORSOrigins: []string{"*"}}))
		srv.Listener.Close()
		srv.Listener = listeners[i]
		srv.Start()
		t.Cleanup(srv.Close)
	}
	return urls, cl.Nodes, cl.Server.ClientURL()
}

// dashboardParams are the dashboard cluster's chain parameters.
var dashboardParams = chaintest.Params(8)

// showsSideBlock publishes, as a peer would, a rival to n's tip (same
// parent, same height, another miner) and waits for the page's event log
// to report it as a side block: n keeps the tip it saw first. The cluster
// mines on, so a rival that arrives after n's tip has moved on has less
// work and is ignored; then it tries again on the new tip.
func showsSideBlock(t *testing.T, b *browser, n *services.Node, natsURL string) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hdr := nats.Header{}
	hdr.Set(events.HeaderVersion, events.ProtocolVersion)
	hdr.Set(events.HeaderNode, "dashboard-test-peer")
	for attempt := range 20 {
		tip := n.Chain().Tip()
		parent, ok := n.Chain().BlockAt(tip.Height - 1)
		if !ok {
			t.Fatalf("no block below the tip at %d", tip.Height)
		}
		rival := chaintest.NextBlock(t, dashboardParams, parent, chaintest.Addr(5))
		data, err := events.Encode(events.BlockMessage{Block: *rival, Hash: rival.Hash()})
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.PublishMsg(&nats.Msg{Subject: "pycotr.block", Header: hdr, Data: data}); err != nil {
			t.Fatal(err)
		}
		logged := fmt.Sprintf(`[...document.querySelectorAll('#live-events li')].some(li => li.textContent.includes('side block #%d by'))`, tip.Height)
		if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](logged,
			chromedp.WithPollingTimeout(time.Second), chromedp.WithPollingInterval(20*time.Millisecond))); err == nil {
			return
		} else if b.ctx.Err() != nil {
			t.Fatalf("waiting for the side block in the event log: %v", err)
		}
		t.Logf("attempt %d: the rival at height %d was not logged (the tip had moved on?)", attempt+1, tip.Height)
	}
	t.Fatal("no side block in the event log after 20 rivals")
}

// artifactDir is $PYCOTR_ARTIFACTS, or testdata-artifacts/ at the module
// root (git-ignored).
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PYCOTR_ARTIFACTS")
	if dir == "" {
		root, err := filepath.Abs("..")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			t.Fatalf("module root not found above the test: %v", err)
		}
		dir = filepath.Join(root, "testdata-artifacts")
	}
	dir = filepath.Join(dir, "dashboard")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkProtocolParity runs the dashboard's own protocol module
// (assets/js/pycotr.js) in the page and compares it with chain: card
// fields with chain.NewCard, signing bytes with Tx.SigningBytes, and a
// browser-made signature with chain.VerifyBytes.
func checkProtocolParity(t *testing.T, b *browser) {
	t.Helper()
	cards := []chain.CardInput{
		{Number: "4111 1111 1111 1111", Expiry: "2099-12", CVV: "123", Holder: "Test Buyer"},
		{Number: "5555-5555-5555-4444", Expiry: "2028-02", CVV: " 1234 ", Holder: "  Zoë Ünïcode 山田  "},
		{Number: "378282246310005", Expiry: "2030-06-15", CVV: "999", Holder: ""},
		{Number: "4111111111111111", Expiry: "2024-02", CVV: "000", Holder: "Leap Year"},
	}
	type jsCase struct {
		Card chain.Card `json:"card"`
		Tx   chain.Tx   `json:"tx"`
	}
	var want []jsCase
	for i, in := range cards {
		c, err := chain.NewCard(in)
		if err != nil {
			t.Fatalf("card %d: %v", i, err)
		}
		tx := chain.Tx{Type: chain.TxMint, ID: chain.NewTxID(), From: "ab" + chain.Address(strings.Repeat("cd", i)), To: "ab", Amount: int64(1) << (10 * i), Fee: int64(i), Card: &c}
		if i == 3 {
			tx = chain.Tx{Type: chain.TxTransfer, ID: chain.NewTxID(), From: "0a", To: "0b", Amount: chain.MaxAmount, Fee: 0}
		}
		want = append(want, jsCase{Card: c, Tx: tx})
	}

	type parity struct {
		Cards   []chain.Card `json:"cards"`
		Signing []string     `json:"signing"`
		Bad     []string     `json:"bad"`
		Address string       `json:"address"`
		Message string       `json:"message"`
		Sig     string       `json:"sig"`
	}
	script := fmt.Sprintf(`(async () => {
		const m = await import('/assets/js/pycotr.js');
		const inputs = %s, cases = %s;
		const cards = [];
		for (const c of inputs) cards.push(await m.makeCard({number: c.Number, expiry: c.Expiry, cvv: c.CVV, holder: c.Holder}));
		const signing = cases.map(c => m.signingString(c.tx));
		const bad = [];
		for (const c of [{number: '4111 1111 1111 1112', expiry: '2099-12', cvv: '123'}, {number: '4111111111111111', expiry: '2099-13', cvv: '123'},
		                 {number: '4111111111111111', expiry: '2099-02-30', cvv: '123'}, {number: '4111111111111111', expiry: '2099-12', cvv: '12'}]) {
			try { await m.makeCard(c); bad.push('accepted ' + JSON.stringify(c)); } catch (e) { if (!(e instanceof m.FieldError)) bad.push(String(e)); }
		}
		const w = await m.generateWallet();
		const tx = {type: 'transfer', id: crypto.randomUUID(), from: w.address, to: w.address, amount: 7, fee: 1};
		await m.signTx(w.privateKey, tx);
		let exportable = true;
		try { await crypto.subtle.exportKey('pkcs8', w.privateKey); } catch { exportable = false; }
		if (exportable) bad.push('the private key can be exported');
		return {cards, signing, bad, address: w.address, message: m.signingString(tx), sig: tx.signature};
	})()`, mustJSON(t, cards), mustJSON(t, want))
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[parity](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running the dashboard's protocol module: %v", err)
	}
	for i := range want {
		if i < len(got.Cards) && got.Cards[i] != want[i].Card {
			t.Errorf("card %d: browser %+v, chain.NewCard %+v", i, got.Cards[i], want[i].Card)
		}
		if i < len(got.Signing) && got.Signing[i] != string(want[i].Tx.SigningBytes()) {
			t.Errorf("tx %d signing bytes:\nbrowser %q\nchain   %q", i, got.Signing[i], want[i].Tx.SigningBytes())
		}
	}
	if len(got.Cards) != len(want) || len(got.Signing) != len(want) {
		t.Errorf("browser returned %d cards and %d signing strings, want %d", len(got.Cards), len(got.Signing), len(want))
	}
	for _, b := range got.Bad {
		t.Errorf("browser card check: %s", b)
	}
	tx := chain.Tx{Type: chain.TxTransfer, From: chain.Address(got.Address), To: chain.Address(got.Address), Amount: 7, Fee: 1}
	if i := strings.Index(got.Message, "\nid:"); i >= 0 {
		tx.ID = strings.SplitN(got.Message[i+4:], "\n", 2)[0]
	}
	if string(tx.SigningBytes()) != got.Message {
		t.Errorf("browser transfer signing bytes:\n%q\nchain:\n%q", got.Message, tx.SigningBytes())
	}
	if err := chain.VerifyBytes(tx.From, tx.SigningBytes(), got.Sig); err != nil {
		t.Errorf("a browser signature does not verify with chain.VerifyBytes: %v", err)
	}
}
