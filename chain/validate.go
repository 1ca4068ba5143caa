package chain

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
)

// CheckTxSanity applies the context-free rules to a transaction: form,
// amounts, card data and signature. It needs no chain state. A signature
// made in this process by Tx.Sign, on content unchanged since, is not
// verified again: the signing already checked it.
func CheckTxSanity(tx *Tx, p *Params) error {
	_, err := checkTxSanity(tx, p)
	return err
}

// checkTxSanity is CheckTxSanity with the signing bytes built once; it
// returns the transaction's Hash.
func checkTxSanity(tx *Tx, p *Params) (Hash, error) {
	msg := tx.SigningBytes()
	if err := checkTxForm(tx, p, sizeOf(msg, tx.Signature)); err != nil {
		return Hash{}, fmt.Errorf("tx %s: %w", tx.ID, err)
	}
	h := hashOf(msg, tx.Signature)
	if tx.Type == TxReward || tx.signedAs(h) { // the form checked From's address
		return h, nil
	}
	if err := VerifyBytes(tx.From, msg, tx.Signature); err != nil {
		return Hash{}, fmt.Errorf("tx %s: %w", tx.ID, err)
	}
	return h, nil
}

// checkTxForm checks everything but the signature; size is tx.Size().
func checkTxForm(tx *Tx, p *Params, size int) error {
	if !isCanonicalUUID(tx.ID) {
		return ErrBadTxID
	}
	if tx.Amount <= 0 {
		return ErrBadAmount
	}
	if tx.Fee < 0 {
		return ErrBadFee
	}
	// A reward's amount is the subsidy plus the block's fees, fixed exactly
	// by the block rule (whose sum is overflow-checked), so it may exceed
	// MaxAmount; every other amount and fee is bounded.
	if (tx.Amount > MaxAmount && tx.Type != TxReward) || tx.Fee > MaxAmount {
		return ErrAmountOverflow
	}
	if p.MaxTxBytes > 0 && size > p.MaxTxBytes {
		return ErrTxTooLarge
	}
	if _, err := ParseAddress(tx.To); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	switch tx.Type {
	case TxReward:
		if tx.From != "" || tx.Signature != "" || tx.Fee != 0 {
			return ErrRewardSigned
		}
		if tx.Card != nil {
			return ErrUnexpectedCard
		}
		return nil
	case TxTransfer:
		if tx.Card != nil {
			return ErrUnexpectedCard
		}
		if tx.From == tx.To {
			return ErrSelfTransfer
		}
	case TxMint:
		if tx.From != tx.To {
			return ErrMintNotToSelf
		}
		if tx.Card == nil {
			return ErrMissingCard
		}
		if err := tx.Card.check(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%q: %w", tx.Type, ErrUnknownTxType)
	}
	if _, err := ParseAddress(tx.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	return nil
}

// checkTxTime applies the rule that reads time: a card must not have
// expired before t (the block's timestamp, or the node's clock at
// admission). Consensus uses only the block's timestamp.
func checkTxTime(tx *Tx, t int64) error {
	if tx.Type != TxMint || tx.Card == nil {
		return nil
	}
	exp, err := tx.Card.ExpiresAt()
	if err != nil {
		return err
	}
	if t >= exp {
		return fmt.Errorf("tx %s: card valid to %s: %w", tx.ID, tx.Card.Expiry, ErrCardExpired)
	}
	return nil
}

func isCanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// CheckBlockSanity applies the rules that need no chain state: hash and
// proof-of-work, limits, the reward's place, the merkle root, duplicate ids,
// and every transaction's own rules. nowMillis bounds the timestamp.
func CheckBlockSanity(b *Block, p *Params, nowMillis int64) error {
	return checkBlockSanity(b, p, nowMillis, nil)
}

// checkBlockSanity is CheckBlockSanity; signatures found in sigs (if not
// nil) are not verified again.
func checkBlockSanity(b *Block, p *Params, nowMillis int64, sigs *sigCache) error {
	h := &b.Header
	if h.Version != BlockVersion {
		return ErrBadVersion
	}
	if !MeetsBits(h.Hash(), h.Bits) {
		return ErrBadPoW
	}
	if h.Timestamp > nowMillis+p.MaxFutureMillis {
		return ErrTimeTooNew
	}
	if len(b.Txs) == 0 || b.Txs[0].Type != TxReward {
		return ErrNoCoinbase
	}
	if len(b.Txs) > p.MaxBlockTxs {
		return ErrTooManyTxs
	}
	if b.Size() > p.MaxBlockBytes {
		return ErrBlockTooLarge
	}
	leaves := b.TxHashes()
	if MerkleRoot(leaves) != h.MerkleRoot {
		return ErrBadMerkleRoot
	}
	// The context-free rules run in order; the signatures, nearly all of
	// the cost, are then checked on all cores. The error is the one a
	// check in order would meet first: the first failing transaction's
	// first failing rule (position, duplicate id, form, signature, time,
	// fees).
	seen := make(map[string]struct{}, len(b.Txs))
	var fees int64
	var ruleErr error
	sigsUpTo := len(b.Txs) // signatures to check: those of b.Txs[:sigsUpTo]
	for i := range b.Txs {
		tx := &b.Txs[i]
		if i > 0 && tx.Type == TxReward {
			ruleErr, sigsUpTo = ErrExtraCoinbase, i
			break
		}
		if _, dup := seen[tx.ID]; dup {
			ruleErr, sigsUpTo = fmt.Errorf("tx %s: %w", tx.ID, ErrDuplicateInBlock), i
			break
		}
		seen[tx.ID] = struct{}{}
		if err := checkTxForm(tx, p, tx.Size()); err != nil {
			ruleErr, sigsUpTo = fmt.Errorf("tx %s: %w", tx.ID, err), i
			break
		}
		if err := checkTxTime(tx, h.Timestamp); err != nil {
			ruleErr, sigsUpTo = err, i+1
			break
		}
		if i > 0 {
			if fees > math.MaxInt64-p.Reward-tx.Fee {
				ruleErr, sigsUpTo = fmt.Errorf("block fees: %w", ErrAmountOverflow), i+1
				break
			}
			fees += tx.Fee
		}
	}
	if err := verifyTxSigs(b.Txs[:sigsUpTo], leaves, sigs); err != nil {
		return err
	}
	if ruleErr != nil {
		return ruleErr
	}
	if b.Txs[0].Amount != p.Reward+fees {
		return fmt.Errorf("reward %d, want %d + %d fees: %w", b.Txs[0].Amount, p.Reward, fees, ErrBadReward)
	}
	return nil
}

// parallelSigsMin is the number of signatures from which verifyTxSigs
// spreads the work over several goroutines.
var parallelSigsMin = 4

// verifyTxSigs checks the signatures of transactions whose form is
// already checked, on up to GOMAXPROCS goroutines, and returns the error
// of the first (lowest-index) transaction that fails. hashes[i] is
// txs[i].Hash(); a hash in sigs (if not nil) verified before.
func verifyTxSigs(txs []Tx, hashes []Hash, sigs *sigCache) error {
	var hits []bool
	if sigs != nil {
		hits = make([]bool, len(txs))
		need := 0
		for i := range txs {
			if hits[i] = txs[i].Type == TxReward || sigs.has(hashes[i]); !hits[i] {
				need++
			}
		}
		if need == 0 {
			return nil
		}
	}
	verify := func(i int) error {
		tx := &txs[i]
		if tx.Type == TxReward || (hits != nil && hits[i]) {
			return nil
		}
		if err := VerifyBytes(tx.From, tx.SigningBytes(), tx.Signature); err != nil {
			return fmt.Errorf("tx %s: %w", tx.ID, err)
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(txs)/2)
	if len(txs) < parallelSigsMin || workers < 2 {
		for i := range txs {
			if err := verify(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(txs))
	var next atomic.Int64
	var firstBad atomic.Int64 // lowest failing index so far: later ones need no check
	firstBad.Store(int64(len(txs)))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(txs)) || i > firstBad.Load() {
					return
				}
				if err := verify(int(i)); err != nil {
					errs[i] = err
					for {
						cur := firstBad.Load()
						if i >= cur || firstBad.CompareAndSwap(cur, i) {
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
