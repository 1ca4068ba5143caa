package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/wallet"
)

// table writes aligned columns; call flush when done.
func table(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	return tw
}

func row(tw io.Writer, cols ...any) {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(tw, strings.Join(s, "\t"))
}

// writeJSON prints v indented, for --json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// writeRaw prints a node's JSON answer indented, as it came.
func writeRaw(w io.Writer, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("node answer: %w", err)
	}
	return writeJSON(w, v)
}

// blockTime formats a header's unix-millisecond timestamp.
func blockTime(ms int64) string {
	return time.UnixMilli(ms).Local().Format("2006-01-02 15:04:05")
}

// rsaExponentSuffix ends the DER form of every key with exponent 65537,
// the one Go (and the original's Python) generate.
const rsaExponentSuffix = "0203010001"

// shortAddress abbreviates an address for a table. Addresses share their
// first bytes (the DER header) and last ones (the exponent), so the end of
// the modulus is shown: "…" and 12 hex digits, or the start and end for
// anything else.
func shortAddress(a chain.Address) string {
	s := string(a)
	switch {
	case s == "":
		return "-"
	case len(s) > 40 && strings.HasSuffix(s, rsaExponentSuffix):
		end := len(s) - len(rsaExponentSuffix)
		return "…" + s[end-12:end]
	case len(s) > 24:
		return s[:10] + "…" + s[len(s)-10:]
	}
	return s
}

// namer shows an address as the name of one of our wallets when it is
// one, else abbreviated.
type namer struct{ store *wallet.Store }

func (n namer) name(a chain.Address) string {
	if n.store != nil {
		if name, ok := n.store.NameOf(a); ok {
			return name
		}
	}
	return shortAddress(a)
}

// explorerNamer opens the wallet file only to name addresses; the
// explorer works the same without one.
func explorerNamer() namer {
	path, err := wallet.DefaultPath()
	if err != nil {
		return namer{}
	}
	s, err := wallet.Open(path)
	if err != nil {
		return namer{}
	}
	return namer{s}
}

// txRow is a transaction's columns in block and mempool tables.
func txRow(tw io.Writer, n namer, tx chain.Tx) {
	from := n.name(tx.From)
	if tx.Type == chain.TxReward {
		from = "(reward)"
	}
	row(tw, tx.ID, tx.Type, from, n.name(tx.To), tx.Amount, tx.Fee)
}

var txHeader = []string{"TX", "TYPE", "FROM", "TO", "AMOUNT", "FEE"}

// field writes an aligned "name  value" line.
func field(tw io.Writer, name string, v any) { fmt.Fprintf(tw, "%s\t%v\n", name, v) }
