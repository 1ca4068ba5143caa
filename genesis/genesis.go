// Package genesis defines a Pycotr network's starting point: its consensus
// parameters and its genesis block, kept in an embedded genesis.json. It
// loads and checks such files and generates them (`pycotr genesis`).
package genesis

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// File is the content of a genesis file.
type File struct {
	Params chain.Params `json:"params"`
	Block  chain.Block  `json:"block"`
	Hash   chain.Hash   `json:"hash"`
}

// Timestamp is the default network's genesis time: 2022-03-27 UTC, the
// original Pycotr's.
var Timestamp = time.Date(2022, 3, 27, 0, 0, 0, 0, time.UTC)

//go:embed genesis.json
var embedded []byte

//go:embed retarget.json
var embeddedRetarget []byte

// Profile is a named, embedded genesis: "default" (fixed difficulty, the
// original's behaviour) and "retarget" (difficulty that adapts while the
// network runs).
type Profile struct {
	Name   string
	File   string // path in the repository, rewritten by `pycotr genesis`
	Params func() chain.Params
	data   []byte
}

// Profiles lists the embedded genesis profiles.
var Profiles = []Profile{
	{Name: "default", File: "genesis/genesis.json", Params: chain.DefaultParams, data: embedded},
	{Name: "retarget", File: "genesis/retarget.json", Params: RetargetParams, data: embeddedRetarget},
}

// RetargetParams are the "retarget" profile's parameters: the default
// network with difficulty retargeting every 20 blocks toward one block a
// second, starting easy, and a tight future bound so timestamps cannot
// game the rule.
func RetargetParams() chain.Params {
	p := chain.DefaultParams()
	p.Network = "pycotr-retarget"
	p.Bits = 12
	p.MaxFutureMillis = 15_000
	p.GenesisMessage = "Pycotr genesis block: difficulty that adapts while the network runs"
	p.Retarget = &chain.RetargetParams{Every: 20, TargetBlockMillis: 1000, MaxStepBits: 2, MinBits: 8, MaxBits: 40}
	return p
}

// ProfileFile generates a profile's genesis file from its model.
func ProfileFile(ctx context.Context, pr Profile) (*File, error) {
	return Generate(ctx, pr.Params(), Timestamp)
}

// Embedded returns the raw embedded genesis.json.
func Embedded() []byte { return bytes.Clone(embedded) }

// Default loads the embedded genesis file.
func Default() (*File, error) {
	f, err := Parse(embedded)
	if err != nil {
		return nil, fmt.Errorf("embedded genesis: %w", err)
	}
	return f, nil
}

// Load reads a genesis file from disk. An empty path means the embedded
// default; the name of an embedded profile ("default", "retarget") that is
// not a file on disk means that profile.
func Load(path string) (*File, error) {
	if path == "" {
		return Default()
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		for _, pr := range Profiles {
			if pr.Name == path {
				return Parse(pr.data)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read genesis (a file, or a profile: default, retarget): %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("genesis %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes and checks a genesis file strictly.
func Parse(data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Check verifies the file's internal consistency.
func (f *File) Check() error {
	h := &f.Block.Header
	p := &f.Params
	switch {
	case p.Network == "":
		return fmt.Errorf("params: network name is empty")
	case p.Reward <= 0 || p.Reward > chain.MaxAmount:
		return fmt.Errorf("params: reward %d out of range", p.Reward)
	case p.Bits > 64:
		return fmt.Errorf("params: bits %d above 64", p.Bits)
	case p.Retarget != nil && p.Retarget.Check() != nil:
		return fmt.Errorf("params: %w", p.Retarget.Check())
	case p.MaxBlockTxs < 1 || p.MaxBlockBytes < chain.HeaderSize || p.MaxTxBytes < 1 || p.MaxFutureMillis < 0:
		return fmt.Errorf("params: block limits out of range")
	case h.Height != 0 || !h.PrevHash.IsZero():
		return fmt.Errorf("genesis block must be at height 0, with a zero previous hash")
	case len(f.Block.Txs) != 1 || !isGenesisTx(&f.Block.Txs[0], p):
		return fmt.Errorf("genesis block must hold exactly the genesis transaction (a reward of 0 to the network address, id %s)",
			TxID(p.GenesisMessage))
	case h.Version != chain.BlockVersion:
		return fmt.Errorf("genesis block version %d", h.Version)
	case h.Bits != p.Bits:
		return fmt.Errorf("genesis bits %d differ from params %d", h.Bits, p.Bits)
	case h.MerkleRoot != f.Block.ComputeMerkleRoot():
		return fmt.Errorf("genesis merkle root does not commit to the genesis transaction")
	case f.Block.Hash() != f.Hash:
		return fmt.Errorf("genesis hash %s does not match its header (%s)", f.Hash.Short(), f.Block.Hash().Short())
	case !chain.MeetsBits(f.Hash, h.Bits):
		return fmt.Errorf("genesis block fails its proof-of-work")
	}
	return nil
}

// isGenesisTx reports whether tx is exactly the genesis transaction of p.
func isGenesisTx(tx *chain.Tx, p *chain.Params) bool {
	want := Tx(*p)
	return tx.Hash() == want.Hash()
}

// Generate builds a genesis file for params at time t, solving the
// proof-of-work from nonce 0 (so the result is deterministic).
func Generate(ctx context.Context, p chain.Params, t time.Time) (*File, error) {
	b := unsolvedBlock(p, t)
	var m chain.Miner
	h, err := m.Solve(ctx, b.Header)
	if err != nil {
		return nil, fmt.Errorf("solve genesis: %w", err)
	}
	b.Header = h
	f := &File{Params: p, Block: b, Hash: b.Hash()}
	return f, f.Check()
}

// DefaultFile generates the default network's genesis file.
func DefaultFile(ctx context.Context) (*File, error) {
	return Generate(ctx, chain.DefaultParams(), Timestamp)
}

// Marshal returns the file's canonical JSON (indented, newline-terminated).
func (f *File) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// NewChain builds a chain starting from this genesis.
func (f *File) NewChain(cfg chain.Config) (*chain.Chain, error) {
	cfg.Params = f.Params
	cfg.Genesis = &f.Block
	return chain.New(cfg)
}
