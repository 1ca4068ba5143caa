package chain

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// TxLocation says where a confirmed transaction is.
type TxLocation struct {
	Height uint64
	Block  Hash
}

// Ledger is the state of the best chain: every balance, everything minted,
// and where each confirmed transaction sits. Connecting a block applies
// its transactions; disconnecting applies them in reverse, exactly.
type Ledger struct {
	balances map[Address]int64
	minted   int64
	// txs indexes confirmed transactions by id, then sender: an id is
	// unique per sender (a reward's sender is ""), so one id may name
	// transactions of several senders.
	txs map[string][]txRef
}

// txRef is a confirmed transaction in the ledger's index.
type txRef struct {
	from Address
	loc  TxLocation
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{balances: make(map[Address]int64), txs: make(map[string][]txRef)}
}

// Balance returns an address's confirmed balance: a map look-up.
func (l *Ledger) Balance(a Address) int64 { return l.balances[a] }

// Minted is the total ever created by rewards and card purchases.
func (l *Ledger) Minted() int64 { return l.minted }

// Accounts is the number of addresses with a non-zero balance.
func (l *Ledger) Accounts() int { return len(l.balances) }

// TxLocation finds the confirmed transaction of a sender ("" for a
// reward) with an id.
func (l *Ledger) TxLocation(from Address, id string) (TxLocation, bool) {
	for _, r := range l.txs[id] {
		if r.from == from {
			return r.loc, true
		}
	}
	return TxLocation{}, false
}

func (l *Ledger) addTx(tx *Tx, loc TxLocation) {
	l.txs[tx.ID] = append(l.txs[tx.ID], txRef{from: tx.From, loc: loc})
}

func (l *Ledger) removeTx(tx *Tx) {
	refs := l.txs[tx.ID]
	for i, r := range refs {
		if r.from == tx.From {
			refs = slices.Delete(refs, i, i+1)
			break
		}
	}
	if len(refs) == 0 {
		delete(l.txs, tx.ID)
	} else {
		l.txs[tx.ID] = refs
	}
}

// CheckInvariant verifies that the balances add up to what was minted and
// that none is negative.
func (l *Ledger) CheckInvariant() error {
	var sum int64
	for a, v := range l.balances {
		if v < 0 {
			return fmt.Errorf("ledger: %s has negative balance %d", short(string(a)), v)
		}
		sum += v
	}
	if sum != l.minted {
		return fmt.Errorf("ledger: balances sum to %d, minted %d", sum, l.minted)
	}
	return nil
}

// Equal reports whether two ledgers hold the same state.
func (l *Ledger) Equal(o *Ledger) bool {
	return l.minted == o.minted && maps.Equal(l.balances, o.balances) &&
		maps.EqualFunc(l.txs, o.txs, func(a, b []txRef) bool {
			return len(a) == len(b) && !slices.ContainsFunc(a, func(r txRef) bool { return !slices.Contains(b, r) })
		})
}

func (l *Ledger) add(a Address, v int64) {
	n := l.balances[a] + v
	if n == 0 {
		delete(l.balances, a)
	} else {
		l.balances[a] = n
	}
}

// connect applies a block whose sanity is already checked. It checks the
// stateful rules (no replayed id, no overspend) and applies nothing if one
// fails.
func (l *Ledger) connect(b *Block, hash Hash) error {
	if err := l.checkConnect(b); err != nil {
		return err
	}
	loc := TxLocation{Height: b.Header.Height, Block: hash}
	for i := range b.Txs {
		tx := &b.Txs[i]
		l.addTx(tx, loc)
		switch tx.Type {
		case TxReward:
			fees := b.Fees()
			l.minted += tx.Amount - fees
			l.add(tx.To, tx.Amount)
		case TxMint:
			l.minted += tx.Amount
			l.add(tx.From, -tx.Fee)
			l.add(tx.To, tx.Amount)
		case TxTransfer:
			l.add(tx.From, -(tx.Amount + tx.Fee))
			l.add(tx.To, tx.Amount)
		}
	}
	return nil
}

// checkConnect checks the block's transactions in order against the
// ledger: each sender's id new to the chain, and every sender able to pay
// at its turn. What counts is the balance before the block plus the
// credits of the transfers and mints before it in the block; the reward
// is not spendable in its own block (it pays the block's fees, which the
// later transactions pay), and a fee reaches the miner only through the
// reward.
func (l *Ledger) checkConnect(b *Block) error {
	delta := make(map[Address]int64)
	bal := func(a Address) int64 { return l.balances[a] + delta[a] }
	// Every balance is non-negative and they sum to minted, so bounding
	// minted by MaxInt64 keeps every balance and every sum from overflowing.
	minted := l.minted
	for i := range b.Txs {
		tx := &b.Txs[i]
		if _, dup := l.TxLocation(tx.From, tx.ID); dup {
			return fmt.Errorf("tx %s: %w", tx.ID, ErrDuplicateTx)
		}
		var created int64
		switch tx.Type {
		case TxReward:
			created = tx.Amount - b.Fees()
		case TxMint:
			created = tx.Amount
		}
		if created > math.MaxInt64-minted {
			return fmt.Errorf("tx %s: total supply would overflow: %w", tx.ID, ErrAmountOverflow)
		}
		minted += created
		switch tx.Type {
		case TxMint:
			if bal(tx.From)+tx.Amount < tx.Fee {
				return fmt.Errorf("tx %s: %w", tx.ID, ErrInsufficientFund)
			}
			delta[tx.To] += tx.Amount - tx.Fee
		case TxTransfer:
			if bal(tx.From) < tx.Amount+tx.Fee {
				return fmt.Errorf("tx %s: %w", tx.ID, ErrInsufficientFund)
			}
			delta[tx.From] -= tx.Amount + tx.Fee
			delta[tx.To] += tx.Amount
		}
	}
	return nil
}

// disconnect reverses connect for the tip block.
func (l *Ledger) disconnect(b *Block) {
	for i := len(b.Txs) - 1; i >= 0; i-- {
		tx := &b.Txs[i]
		l.removeTx(tx)
		switch tx.Type {
		case TxReward:
			l.minted -= tx.Amount - b.Fees()
			l.add(tx.To, -tx.Amount)
		case TxMint:
			l.minted -= tx.Amount
			l.add(tx.To, -tx.Amount)
			l.add(tx.From, tx.Fee)
		case TxTransfer:
			l.add(tx.To, -tx.Amount)
			l.add(tx.From, tx.Amount+tx.Fee)
		}
	}
}
