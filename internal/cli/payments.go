package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/wait"
)

// The wallet's commands that talk to a node: balance, send, buy.

func walletBalance(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet balance", args: "[NAME|ADDRESS] [--json] [--node URL]",
		summary: "Show the balance and the spendable amount (balance less pending spends) of a wallet\n" +
			"or any address; with no argument, of every wallet."})
	node := nodeFlag(fs)
	asJSON := jsonFlag(fs)
	pos, err := parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	c, err := NewClient(*node)
	if err != nil {
		return err
	}
	var addrs []chain.Address
	if len(pos) == 1 {
		a, err := s.Resolve(pos[0])
		if err != nil {
			return usageOf(err)
		}
		addrs = append(addrs, a)
	} else {
		for _, w := range s.List() {
			addrs = append(addrs, w.Address)
		}
	}
	bals := make([]Balance, 0, len(addrs))
	for _, a := range addrs {
		b, err := c.Balance(ctx, a)
		if err != nil {
			return err
		}
		bals = append(bals, b)
	}
	if *asJSON {
		type named struct {
			Name string `json:"name,omitempty"`
			Balance
		}
		out := make([]named, len(bals))
		for i, b := range bals {
			name, _ := s.NameOf(b.Address)
			out[i] = named{name, b}
		}
		if len(pos) == 1 {
			return writeJSON(e.stdout, out[0])
		}
		return writeJSON(e.stdout, out)
	}
	if len(bals) == 0 {
		fmt.Fprintf(e.stdout, "no wallets in %s; make one with `pycotr wallet new --name NAME`\n", s.Path())
		return nil
	}
	names := namer{s}
	tw := table(e.stdout, "WALLET", "BALANCE", "SPENDABLE")
	for _, b := range bals {
		row(tw, names.name(b.Address), b.Balance, b.Spendable)
	}
	return tw.Flush()
}

// submitFlags are send's and buy's shared flags.
type submitFlags struct {
	node    *string
	fee     *int64
	wait    *bool
	timeout *time.Duration
	asJSON  *bool
}

func addSubmitFlags(fs *flag.FlagSet) submitFlags {
	return submitFlags{
		node:    nodeFlag(fs),
		fee:     fs.Int64("fee", 0, "fee paid to the miner; higher fees are mined first"),
		wait:    fs.Bool("wait", false, "follow the transaction until it is in a block, and print the block"),
		timeout: fs.Duration("timeout", 2*time.Minute, "with --wait: give up after this long"),
		asJSON:  jsonFlag(fs),
	}
}

func (f submitFlags) check(amount int64) error {
	switch {
	case amount <= 0:
		return Usagef("--amount is required and must be positive")
	case *f.fee < 0:
		return Usagef("bad --fee=%d: want 0 or more", *f.fee)
	case *f.timeout <= 0:
		return Usagef("bad --timeout=%s: want a positive duration", *f.timeout)
	}
	return nil
}

func walletSend(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet send", args: "NAME --to NAME|ADDRESS --amount A [--fee F] [--wait] [--timeout D]",
		summary: "Sign a transfer from wallet NAME here, submit it to the node, and with --wait follow it\n" +
			"until it is mined. The recipient is one of your wallets' names or any address."})
	to := fs.String("to", "", "the recipient: a wallet name or an address")
	amount := fs.Int64("amount", 0, "coins to send")
	sf := addSubmitFlags(fs)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *to == "" {
		return Usagef("--to is required")
	}
	if err := sf.check(*amount); err != nil {
		return err
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	k, err := s.Key(pos[0])
	if err != nil {
		return usageOf(err)
	}
	dest, err := s.Resolve(*to)
	if err != nil {
		return usageOf(fmt.Errorf("--to: %w", err))
	}
	c, err := NewClient(*sf.node)
	if err != nil {
		return err
	}
	tx, err := chain.NewTransfer(k, dest, *amount, *sf.fee, "")
	if err != nil {
		return fmt.Errorf("sign the transfer: %w", err)
	}
	if err := c.Submit(ctx, tx); err != nil {
		return err
	}
	names := namer{s}
	return e.follow(ctx, c, sf, tx, fmt.Sprintf("%s → %s: %d (fee %d)", pos[0], names.name(dest), tx.Amount, tx.Fee))
}

func walletBuy(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet buy", args: "NAME --amount A --card NUMBER --expiry YYYY-MM --cvv CVV [--fee F] [--wait]",
		summary: "Buy coins for wallet NAME with a card: a card purchase, signed here. The node checks the\n" +
			"number (Luhn) and the CVV and forgets them; the chain keeps only the masked number and the\n" +
			"expiry. Test numbers such as 4111 1111 1111 1111 pass."})
	amount := fs.Int64("amount", 0, "coins to buy")
	number := fs.String("card", "", "the card number (spaces and dashes allowed)")
	expiry := fs.String("expiry", "", "the card's expiry, YYYY-MM or YYYY-MM-DD")
	cvv := fs.String("cvv", "", "the card's 3 or 4 digit security code")
	sf := addSubmitFlags(fs)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *number == "" || *expiry == "" || *cvv == "" {
		return Usagef("--card, --expiry and --cvv are required")
	}
	if err := sf.check(*amount); err != nil {
		return err
	}
	card, err := chain.NewCard(chain.CardInput{Number: *number, Expiry: *expiry, CVV: *cvv})
	if err != nil {
		return Usagef("%w", err)
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	k, err := s.Key(pos[0])
	if err != nil {
		return usageOf(err)
	}
	c, err := NewClient(*sf.node)
	if err != nil {
		return err
	}
	tx, err := chain.NewMint(k, card, *amount, *sf.fee, "")
	if err != nil {
		return fmt.Errorf("sign the purchase: %w", err)
	}
	if err := c.SubmitPurchase(ctx, tx, *number, *cvv); err != nil {
		return err
	}
	return e.follow(ctx, c, sf, tx, fmt.Sprintf("%s buys %d with card %s (fee %d)", pos[0], tx.Amount, card.Masked, tx.Fee))
}

// pollInterval is how often --wait asks the node about a transaction.
const pollInterval = 200 * time.Millisecond

// follow reports a submitted transaction and, with --wait, polls the node
// until a block holds it, then reports the block.
func (e *env) follow(ctx context.Context, c *Client, sf submitFlags, tx chain.Tx, what string) error {
	if !*sf.asJSON {
		fmt.Fprintf(e.stdout, "submitted %s\ntx %s\n", what, tx.ID)
	}
	if !*sf.wait {
		if *sf.asJSON {
			return writeJSON(e.stdout, map[string]string{"id": tx.ID, "status": "pending"})
		}
		fmt.Fprintf(e.stdout, "pending; follow it with `pycotr tx %s`\n", tx.ID)
		return nil
	}
	if !*sf.asJSON {
		fmt.Fprintf(e.stderr, "waiting for a block (up to %s)…\n", *sf.timeout)
	}
	var last TxStatus
	var lastErr error
	done := wait.For(ctx, *sf.timeout, pollInterval, func() bool {
		t, _, err := c.Tx(ctx, tx.ID)
		if err != nil {
			lastErr = err // a 404 or a node away for a moment: ask again
			return false
		}
		last, lastErr = t, nil
		return t.Status == "confirmed" && t.Height != nil && t.Block != nil
	})
	if !done {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for tx %s: %w", tx.ID, err)
		}
		if lastErr != nil {
			return fmt.Errorf("tx %s not confirmed within %s: %w", tx.ID, *sf.timeout, lastErr)
		}
		return fmt.Errorf("tx %s still %s after %s; follow it with `pycotr tx %s`", tx.ID, last.Status, *sf.timeout, tx.ID)
	}
	if *sf.asJSON {
		return writeJSON(e.stdout, last)
	}
	fmt.Fprintf(e.stdout, "confirmed in block %d %s\n", *last.Height, *last.Block)
	return nil
}
