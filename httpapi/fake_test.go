package httpapi

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// The real wiring compiles: a *services.Node and the values it hands out
// satisfy the interfaces the API declares.
func nodeConfig(n *services.Node) Config {
	return Config{Node: n, Chain: n.Chain(), Miner: n.Miner(), Peers: n.Peers()}
}

// fakeNode is a Node whose behaviour is its …Fn fields (wtf's mock style);
// a nil field answers the zero value.
type fakeNode struct {
	IDFn            func() string
	NameFn          func() string
	PublicURLFn     func() string
	SourceChainIDFn func() string
	StateFn         func() services.NodeState
	ReadyFn         func() (bool, string)
	StatsFn         func() services.Stats
	SubmitTxFn      func(tx *chain.Tx) error
	SubscribeFn     func(buf int) (<-chan services.Event, func())
}

func call[T any](f func() T) (v T) {
	if f != nil {
		v = f()
	}
	return v
}

func (f *fakeNode) ID() string                { return call(f.IDFn) }
func (f *fakeNode) Name() string              { return call(f.NameFn) }
func (f *fakeNode) PublicURL() string         { return call(f.PublicURLFn) }
func (f *fakeNode) SourceChainID() string     { return call(f.SourceChainIDFn) }
func (f *fakeNode) State() services.NodeState { return call(f.StateFn) }
func (f *fakeNode) Stats() services.Stats     { return call(f.StatsFn) }
func (f *fakeNode) Ready() (bool, string) {
	if f.ReadyFn == nil {
		return false, "fake"
	}
	return f.ReadyFn()
}
func (f *fakeNode) SubmitTxs(txs []*chain.Tx) []error {
	errs := make([]error, len(txs))
	for i, tx := range txs {
		errs[i] = f.SubmitTx(tx)
	}
	return errs
}

func (f *fakeNode) SubmitTx(tx *chain.Tx) error {
	if f.SubmitTxFn == nil {
		return nil
	}
	return f.SubmitTxFn(tx)
}
func (f *fakeNode) Subscribe(buf int) (<-chan services.Event, func()) {
	if f.SubscribeFn == nil {
		ch := make(chan services.Event)
		return ch, func() {}
	}
	return f.SubscribeFn(buf)
}

// fakePeers is a PeerDirectory holding registered URLs in a slice.
type fakePeers struct {
	ListFn func() []services.NodeState
	urls   []string
}

func (p *fakePeers) List() []services.NodeState { return call(p.ListFn) }
func (p *fakePeers) URLs() []string             { return slices.Clone(p.urls) }
func (p *fakePeers) Register(u string)          { p.urls = append(p.urls, u) }

// memChain is an in-memory chain (no node, no NATS) with the writes a
// test needs besides the API's reads.
type memChain interface {
	ChainReader
	AcceptTx(tx *chain.Tx) error
	ProcessBlock(b *chain.Block) (chain.Outcome, error)
	Template(miner chain.Address) *chain.Block
	TipChanged() <-chan struct{}
	Balance(a chain.Address) int64
}

// fakeAPI is the API over a fakeNode, an in-memory chain, a miner that
// is never run (its controls only) and fakePeers: no NATS anywhere.
type fakeAPI struct {
	*testAPI
	fake  *fakeNode
	a     *api
	chain memChain
	miner *miner.Miner
	peers *fakePeers
}

func newFakeAPI(t testing.TB, mutate func(*Config)) *fakeAPI {
	t.Helper()
	c, err := testGenesis(t).NewChain(chain.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fa := &fakeAPI{chain: c, peers: &fakePeers{}}
	fa.fake = &fakeNode{
		IDFn:       func() string { return "00000000-0000-4000-8000-000000000001" },
		NameFn:     func() string { return "fake" },
		SubmitTxFn: c.AcceptTx,
	}
	fa.miner, err = miner.New(miner.Config{
		Settings: miner.Settings{Pause: 50 * time.Millisecond}, Address: addr(t, 0),
		Template: c.Template, TipChanged: c.TipChanged, Submit: func(*chain.Block) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Node: fa.fake, Chain: c, Miner: fa.miner, Peers: fa.peers, DevKeys: true}
	if mutate != nil {
		mutate(&cfg)
	}
	fa.a = newAPI(cfg)
	fa.testAPI = &testAPI{t: t, srv: httptest.NewServer(fa.a.mux)}
	t.Cleanup(fa.srv.Close)
	return fa
}

// mine solves a block on the chain's tip paying addr and connects it.
func (fa *fakeAPI) mine(t testing.TB, to chain.Address) {
	t.Helper()
	b := fa.chain.Template(to)
	var m chain.Miner
	hdr, err := m.Solve(context.Background(), b.Header)
	if err != nil {
		t.Fatal(err)
	}
	b.Header = hdr
	if _, err := fa.chain.ProcessBlock(b); err != nil {
		t.Fatal(err)
	}
}
