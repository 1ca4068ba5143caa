package httpapi_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pycotr/pycotr/internal/testkit"
)

// TestDashboardForkLab drives the fork lab in a headless Chromium against
// a real three-node cluster: node-3's card cuts it off the network; the
// live chain view draws its branch and the others' side by side; the
// card's Heal reconnects it; the view marks the fork healed (one branch
// won, the other dropped) and the narration tells node-3's reorg in plain
// words; the Messages view shows pycotr.block messages and the matching
// `nats sub` command. Screenshots go to the artifact directory
// (testdata-artifacts/dashboard/lab-*.png, git-ignored, or
// $PYCOTR_ARTIFACTS/dashboard).
func TestDashboardForkLab(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the dashboard test needs Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	start := time.Now()
	urls, nodes, _ := startDashboardCluster(t)
	artifacts := artifactDir(t)
	// node-3 mines slowly, so that its branch is the one with less work.
	if err := nodes[2].Miner().SetPause(time.Second); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, 60*time.Second)

	b.do("open the dashboard", chromedp.Navigate(urls[0]+"/#/network"), chromedp.WaitVisible(chromedp.CSS(`#nodes`)))
	waitFor[bool](b, "three node cards with lab controls", `document.querySelectorAll('#nodes .node .lab-form').length === 3 &&
		[...document.querySelectorAll('#nodes .node h2')].map(e => e.textContent).join() === 'node-1,node-2,node-3'`, 20*time.Second)

	// --- cut node-3 off from its card ----------------------------------
	const card3 = `#nodes .node:nth-child(3)`
	b.do("cut node-3 off for 60 s",
		chromedp.SetValue(chromedp.CSS(card3+` .lab-form input`), "60"),
		chromedp.Click(chromedp.CSS(card3+` button.isolate`)))
	waitFor[bool](b, "node-3 shown cut off", `document.querySelector('`+card3+` [data-field="isolation"]').textContent.startsWith('cut off')`, 10*time.Second)
	if nodes[2].Lab().IsolatedUntil().IsZero() {
		t.Fatal("node-3 is not isolated after the click")
	}

	// --- two branches side by side -------------------------------------
	b.do("live chain", chromedp.Navigate(urls[0]+"/#/live"))
	waitFor[bool](b, "two branches drawn, node-3's with its own blocks", `(() => {
		const f = document.querySelector('#fork-list li.fork[data-state="fork"]');
		if (!f) return false;
		const br = [...f.querySelectorAll('.branch')];
		const own = br.find(x => x.dataset.names === 'node-3');
		return br.length === 2 && own && own.querySelectorAll('.fblock:not(.empty)').length >= 1 &&
			br.every(x => x.querySelectorAll('.fblock:not(.empty)').length >= 1);
	})()`, 20*time.Second)
	if nodes[2].Chain().Tip().Hash == nodes[0].Chain().Tip().Hash {
		t.Error("node-3 shares node-1's tip while cut off")
	}
	b.screenshot(artifacts, "lab-fork.png")
	reorgsBefore := nodes[2].Stats().Reorgs

	// --- heal from the card; the reorg and the story --------------------
	b.do("network view", chromedp.Navigate(urls[0]+"/#/network"))
	b.do("heal node-3", chromedp.Click(chromedp.CSS(card3+` button.heal`)))
	testkit.Eventually(t, 15*time.Second, "one tip after the heal", func() bool {
		tip := nodes[0].Chain().Tip().Hash
		return nodes[2].Lab().IsolatedUntil().IsZero() && nodes[1].Chain().Tip().Hash == tip && nodes[2].Chain().Tip().Hash == tip
	})
	if nodes[2].Stats().Reorgs <= reorgsBefore {
		t.Errorf("node-3's reorg counter did not rise (%d)", nodes[2].Stats().Reorgs)
	}
	b.do("live chain again", chromedp.Navigate(urls[0]+"/#/live"))
	waitFor[bool](b, "the fork marked healed: node-3's branch dropped, the other won", `(() => {
		const f = [...document.querySelectorAll('#fork-list li.fork[data-state="healed"]')]
			.find(x => x.querySelector('.branch.lost[data-names="node-3"]'));
		return !!f && !!f.querySelector('.branch.won');
	})()`, 15*time.Second)
	story := waitFor[string](b, "node-3's reorg told in plain words", `(() => {
		const li = [...document.querySelectorAll('#narration li.story-reorg')].find(x => x.textContent.includes('node-3 dropped'));
		return li ? li.textContent : false;
	})()`, 15*time.Second)
	for _, want := range []string{"on its own branch", "the other branch", "has more work", "went back to the pool"} {
		if !strings.Contains(story, want) {
			t.Errorf("the narration %q lacks %q", story, want)
		}
	}
	allStory := eval[string](b, "the narration", `document.querySelector('#narration').innerText`)
	for _, want := range []string{"node-3 is cut off from the network", "The chain forked after #", "node-3 rejoined the network", "The fork healed"} {
		if !strings.Contains(allStory, want) {
			t.Errorf("the narration lacks %q:\n%s", want, allStory)
		}
	}
	b.screenshot(artifacts, "lab-healed.png")

	// --- the message tap --------------------------------------------------
	b.do("messages view", chromedp.Navigate(urls[0]+"/#/tap"), chromedp.WaitVisible(chromedp.CSS(`#tap-form`)))
	waitFor[bool](b, "messages of several subjects", `document.querySelectorAll('#tap-table tbody tr').length >= 5`, 10*time.Second)
	b.do("watch pycotr.block only",
		chromedp.SetValue(chromedp.CSS(`#tap-subject`), "pycotr.block"),
		chromedp.Click(chromedp.CSS(`#tap-form button[type="submit"]`)))
	rows := waitFor[[]string](b, "pycotr.block messages in the tap", `(() => {
		const rs = [...document.querySelectorAll('#tap-table tbody tr')];
		return rs.length >= 2 && rs.every(r => r.dataset.subject === 'pycotr.block') && rs.map(r => r.innerText);
	})()`, 15*time.Second)
	if !strings.Contains(strings.Join(rows, "\n"), "block #") {
		t.Errorf("tap rows do not summarise blocks: %q", rows)
	}
	if cmd := eval[string](b, "the nats sub command", `document.querySelector('#tap-cmd').textContent`); cmd != "nats sub 'pycotr.block'" {
		t.Errorf("the tap shows %q, want nats sub 'pycotr.block'", cmd)
	}
	b.screenshot(artifacts, "lab-tap.png")

	b.checkConsole("browser console")
	t.Logf("fork lab dashboard test took %s", time.Since(start).Round(time.Millisecond))
}

// newBrowser starts a headless Chromium tab for a test, as TestDashboard
// does, and watches its console.
func newBrowser(t *testing.T, within time.Duration) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true), chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true), chromedp.Flag("metrics-recording-only", true), chromedp.Flag("mute-audio", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	b := &browser{t: t}
	var cancelBrowser context.CancelFunc
	b.ctx, cancelBrowser = chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser) // runs first: the browser goes before the servers
	b.do("start the browser")
	b.watchConsole()
	return b
}
