package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/wait"
	"github.com/pycotr/pycotr/internal/wallet"
)

// walletGroup lists `pycotr wallet`'s sub-commands.
var walletGroup = group{
	name: "wallet",
	summary: "A wallet that keeps its keys in " + wallet.EnvFile + " (default: pycotr/wallet.json under\n" +
		"your config directory, mode 0600), signs here and talks to a node (--node, " + EnvNodeURL + ").",
	subs: []sub{
		{"new", "make a key pair and keep it under a name", walletNew},
		{"list", "list the wallets, their addresses and when they were made", walletList},
		{"address", "print a wallet's full address (to receive coins)", walletAddress},
		{"balance", "balance and spendable amount of one wallet or address, or of all wallets", walletBalance},
		{"buy", "buy coins with a card (a card purchase)", walletBuy},
		{"send", "sign a transfer, submit it, and with --wait follow it until mined", walletSend},
		{"history", "a wallet's transactions: pending, then the last blocks', newest first", walletHistory},
		{"export", "print a wallet's private key (the only command that does)", walletExport},
		{"import", "keep a private key read from standard input under a name", walletImport},
	},
}

// WalletCommands names `pycotr wallet`'s sub-commands (for help tests).
func WalletCommands() []string {
	out := make([]string, len(walletGroup.subs))
	for i, s := range walletGroup.subs {
		out[i] = s.name
	}
	return out
}

// RunWallet is `pycotr wallet`.
func RunWallet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return walletGroup.dispatch(ctx, newEnv(stdout, stderr), args)
}

// openStore opens the wallet file.
func openStore() (*wallet.Store, error) {
	path, err := wallet.DefaultPath()
	if err != nil {
		return nil, err
	}
	return wallet.Open(path)
}

// usageOf turns the wallet package's errors about names into usage errors.
func usageOf(err error) error {
	if errors.Is(err, wallet.ErrBadName) || errors.Is(err, wallet.ErrNameTaken) || errors.Is(err, wallet.ErrNotFound) {
		return UsageError{err}
	}
	return err
}

func walletNew(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet new", args: "[--name NAME] [--json]",
		summary: "Make a 2048-bit RSA key pair and keep it in the wallet file under NAME (default wallet-N).\n" +
			"Prints the name and the address; the key stays in the file."})
	name := fs.String("name", "", "the wallet's name: letters, digits, '_', '.', '-'")
	asJSON := jsonFlag(fs)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	if *name == "" {
		*name = s.NextName()
	} else if _, err := s.Get(*name); err == nil {
		return Usagef("wallet %q already exists", *name)
	}
	k, err := chain.GenerateKey()
	if err != nil {
		return err
	}
	w, err := s.Add(*name, k, e.now())
	if err != nil {
		return usageOf(err)
	}
	if err := s.Save(); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]string{"name": w.Name, "address": string(w.Address), "file": s.Path()})
	}
	fmt.Fprintf(e.stdout, "made wallet %s, kept in %s\naddress %s\n", w.Name, s.Path(), w.Address)
	return nil
}

func walletList(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet list", args: "[--json]", summary: "List the wallets of the wallet file."})
	asJSON := jsonFlag(fs)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	ws := s.List()
	if *asJSON {
		if ws == nil {
			ws = []wallet.Wallet{}
		}
		return writeJSON(e.stdout, ws)
	}
	if len(ws) == 0 {
		fmt.Fprintf(e.stdout, "no wallets in %s; make one with `pycotr wallet new --name NAME`\n", s.Path())
		return nil
	}
	tw := table(e.stdout, "NAME", "ADDRESS", "CREATED")
	for _, w := range ws {
		row(tw, w.Name, shortAddress(w.Address), w.Created.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func walletAddress(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet address", args: "NAME",
		summary: "Print a wallet's full address, to give to whoever pays you."})
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	w, err := s.Get(pos[0])
	if err != nil {
		return usageOf(err)
	}
	fmt.Fprintln(e.stdout, w.Address)
	return nil
}

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
	fs := e.newFlags(spec{path: "wallet buy", args: "NAME --amount A --card NUMBER --expiry YYYY-MM --cvv CVV [--holder H] [--fee F] [--wait]",
		summary: "Buy coins for wallet NAME with a card: a card purchase, signed here. The node checks the\n" +
			"number (Luhn) and the CVV and forgets them; the chain keeps the masked number, the expiry\n" +
			"and the holder. Test numbers such as 4111 1111 1111 1111 pass."})
	amount := fs.Int64("amount", 0, "coins to buy")
	number := fs.String("card", "", "the card number (spaces and dashes allowed)")
	expiry := fs.String("expiry", "", "the card's expiry, YYYY-MM or YYYY-MM-DD")
	cvv := fs.String("cvv", "", "the card's 3 or 4 digit security code")
	holder := fs.String("holder", "", "the name on the card")
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
	card, err := chain.NewCard(chain.CardInput{Number: *number, Expiry: *expiry, CVV: *cvv, Holder: *holder})
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

func walletExport(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet export", args: "NAME",
		summary: "Print wallet NAME's private key (hex DER PKCS#1) on standard output. Whoever has it\n" +
			"can spend the wallet's coins: never paste it anywhere you would not keep money."})
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	key, err := s.ExportKey(pos[0])
	if err != nil {
		return usageOf(err)
	}
	fmt.Fprintf(e.stderr, "warning: the private key of %s follows; whoever has it can spend its coins\n", pos[0])
	fmt.Fprintln(e.stdout, key)
	return nil
}

func walletImport(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet import", args: "NAME < KEYFILE",
		summary: "Keep the private key read from standard input (hex DER PKCS#1, as `export` prints it and\n" +
			"POST /api/v1/keys gives it) under NAME. Not an argument: it would stay in the shell's history."})
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the key from standard input: %w", err)
	}
	k, err := chain.ParsePrivateKey(strings.TrimSpace(line))
	if err != nil {
		return Usagef("standard input: %w", err)
	}
	w, err := s.Add(pos[0], k, e.now())
	if err != nil {
		return usageOf(err)
	}
	if err := s.Save(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported wallet %s, kept in %s\naddress %s\n", w.Name, s.Path(), w.Address)
	return nil
}

func walletHistory(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet history", args: "NAME|ADDRESS [--blocks N] [--json] [--node URL]",
		summary: "List a wallet's transactions: pending ones, then those of the last N blocks of the best\n" +
			"chain, newest first. CHANGE is what each did to the balance."})
	node := nodeFlag(fs)
	asJSON := jsonFlag(fs)
	n := fs.Int("blocks", 1000, "how many of the latest blocks to read")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *n < 1 {
		return Usagef("bad --blocks=%d: want 1 or more", *n)
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	a, err := s.Resolve(pos[0])
	if err != nil {
		return usageOf(err)
	}
	c, err := NewClient(*node)
	if err != nil {
		return err
	}
	entries, from, err := history(ctx, c, a, *n)
	if err != nil {
		return err
	}
	if *asJSON {
		if entries == nil {
			entries = []HistoryEntry{}
		}
		return writeJSON(e.stdout, entries)
	}
	names := namer{s}
	tw := table(e.stdout, "HEIGHT", "TIME", "TX", "TYPE", "WITH", "CHANGE", "FEE")
	for _, h := range entries {
		height, when := "pending", "-"
		if h.Height != nil {
			height, when = fmt.Sprint(*h.Height), blockTime(h.Time)
		}
		row(tw, height, when, h.Tx.ID, h.Tx.Type, counterparty(names, h.Tx, a), signed(h.Change), h.Tx.Fee)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d transactions, blocks %d and above\n", len(entries), from)
	return nil
}

// counterparty is who a transaction is with, seen from a.
func counterparty(names namer, tx chain.Tx, a chain.Address) string {
	switch {
	case tx.Type == chain.TxReward:
		return "(mining reward)"
	case tx.Type == chain.TxMint:
		if tx.Card != nil {
			return "card " + tx.Card.Masked[max(0, len(tx.Card.Masked)-8):]
		}
		return "(card)"
	case tx.From == a && tx.To == a:
		return "(self)"
	case tx.From == a:
		return names.name(tx.To)
	}
	return names.name(tx.From)
}

func signed(v int64) string {
	if v > 0 {
		return fmt.Sprintf("+%d", v)
	}
	return fmt.Sprint(v)
}
