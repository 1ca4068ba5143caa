package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pycotr/pycotr/chain"
)

// maxPage is the largest page GET /api/v1/chain gives.
const maxPage = 500

// RunChain is `pycotr chain`: the node's tip and its last blocks.
func RunChain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := newEnv(stdout, stderr)
	fs := e.newFlags(spec{path: "chain", args: "[--blocks N] [--json] [--node URL]",
		summary: "Show the node's best chain: its tip and its last blocks, newest first."})
	node := nodeFlag(fs)
	asJSON := jsonFlag(fs)
	n := fs.Int("blocks", 10, "how many of the last blocks to show (1-500)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *n < 1 || *n > maxPage {
		return Usagef("bad --blocks=%d: want 1 to %d", *n, maxPage)
	}
	c, err := NewClient(*node)
	if err != nil {
		return err
	}
	info, raw, err := c.Node(ctx)
	if err != nil {
		return err
	}
	from := uint64(0)
	if info.Height+1 > uint64(*n) {
		from = info.Height + 1 - uint64(*n)
	}
	page, err := c.Chain(ctx, from, *n)
	if err != nil {
		return err
	}
	blocks := page.Blocks
	for i, j := 0, len(blocks)-1; i < j; i, j = i+1, j-1 {
		blocks[i], blocks[j] = blocks[j], blocks[i]
	}
	if *asJSON {
		return writeJSON(stdout, struct {
			Node   any     `json:"node"`
			Blocks []Block `json:"blocks"`
		}{raw, blocks})
	}
	tw := table(stdout, "node", info.Name+" ("+*node+")")
	field(tw, "height", page.Height)
	field(tw, "tip", info.Tip)
	field(tw, "difficulty", fmt.Sprintf("%d bits", info.Bits))
	field(tw, "mempool", fmt.Sprintf("%d txs", info.Mempool))
	field(tw, "peers", info.Peers)
	tw.Flush()
	fmt.Fprintln(stdout)
	names := explorerNamer()
	tw = table(stdout, "HEIGHT", "HASH", "TIME", "TXS", "FEES", "SIZE", "MINER")
	for _, b := range blocks {
		row(tw, b.Height, b.Hash.Short(), blockTime(b.Header.Timestamp), len(b.Transactions), fees(b),
			b.Size, names.name(miner(b)))
	}
	return tw.Flush()
}

func fees(b Block) int64 {
	var sum int64
	for _, tx := range b.Transactions {
		if tx.Type != chain.TxReward {
			sum += tx.Fee
		}
	}
	return sum
}

func miner(b Block) chain.Address {
	for _, tx := range b.Transactions {
		if tx.Type == chain.TxReward {
			return tx.To
		}
	}
	return ""
}

// RunBlock is `pycotr block ID|HEIGHT`.
func RunBlock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return showOne(ctx, args, stdout, stderr, spec{path: "block", args: "HASH|HEIGHT [--json] [--node URL]",
		summary: "Show a block, by its 64-hex hash (any branch) or its height on the best chain."},
		func(c *Client, id string) (Block, []byte, error) { return c.Block(ctx, id) }, writeBlock)
}

// showOne is an explorer command that shows one thing the node is asked
// for by the command's one argument: a table, or with --json the node's
// answer as it came.
func showOne[T any](ctx context.Context, args []string, stdout, stderr io.Writer, sp spec,
	fetch func(c *Client, arg string) (T, []byte, error), write func(io.Writer, namer, T)) error {
	e := newEnv(stdout, stderr)
	fs := e.newFlags(sp)
	node := nodeFlag(fs)
	asJSON := jsonFlag(fs)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	c, err := NewClient(*node)
	if err != nil {
		return err
	}
	v, raw, err := fetch(c, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeRaw(stdout, raw)
	}
	write(stdout, explorerNamer(), v)
	return nil
}

func writeBlock(w io.Writer, names namer, b Block) {
	where := "best chain"
	if !b.Main {
		where = "side branch"
	}
	tw := table(w, "block", fmt.Sprintf("%d (%s)", b.Height, where))
	field(tw, "hash", b.Hash)
	field(tw, "previous", b.Header.PrevHash)
	field(tw, "merkle root", b.Header.MerkleRoot)
	field(tw, "time", blockTime(b.Header.Timestamp))
	field(tw, "difficulty", fmt.Sprintf("%d bits, nonce %d", b.Header.Bits, b.Header.Nonce))
	field(tw, "size", fmt.Sprintf("%d bytes, %d txs, %d in fees", b.Size, len(b.Transactions), fees(b)))
	field(tw, "miner", names.name(miner(b)))
	tw.Flush()
	fmt.Fprintln(w)
	tw = table(w, txHeader...)
	for _, tx := range b.Transactions {
		txRow(tw, names, tx)
	}
	tw.Flush()
}

// RunTx is `pycotr tx ID`.
func RunTx(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return showOne(ctx, args, stdout, stderr, spec{path: "tx", args: "ID [--json] [--node URL]",
		summary: "Show a transaction, pending or on the best chain, and where it is."},
		func(c *Client, id string) (TxStatus, []byte, error) { return c.Tx(ctx, strings.ToLower(id)) }, writeTx)
}

func writeTx(w io.Writer, names namer, t TxStatus) {
	tw := table(w, "tx", t.Tx.ID)
	status := t.Status
	if t.Height != nil && t.Block != nil {
		status = fmt.Sprintf("confirmed in block %d %s", *t.Height, *t.Block)
	}
	field(tw, "status", status)
	field(tw, "type", t.Tx.Type)
	if t.Tx.From != "" {
		field(tw, "from", names.name(t.Tx.From))
	}
	field(tw, "to", names.name(t.Tx.To))
	field(tw, "amount", t.Tx.Amount)
	field(tw, "fee", t.Tx.Fee)
	if c := t.Tx.Card; c != nil {
		field(tw, "card", fmt.Sprintf("%s, expires %s", c.Masked, c.Expiry))
	}
	tw.Flush()
}

// RunMempool is `pycotr mempool`.
func RunMempool(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := newEnv(stdout, stderr)
	fs := e.newFlags(spec{path: "mempool", args: "[--json] [--node URL]",
		summary: "Show the node's pending transactions, in the order a miner takes them (fee, then arrival)."})
	node := nodeFlag(fs)
	asJSON := jsonFlag(fs)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := NewClient(*node)
	if err != nil {
		return err
	}
	m, raw, err := c.Mempool(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeRaw(stdout, raw)
	}
	fmt.Fprintf(stdout, "%d pending transactions, %d bytes\n", m.Count, m.Bytes)
	if len(m.Transactions) == 0 {
		return nil
	}
	fmt.Fprintln(stdout)
	names := explorerNamer()
	tw := table(stdout, txHeader...)
	for _, tx := range m.Transactions {
		txRow(tw, names, tx)
	}
	return tw.Flush()
}
