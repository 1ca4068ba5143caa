package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pycotr/pycotr/chain"
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
