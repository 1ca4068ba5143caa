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
	return h, verifyTxSig(tx, msg, h, nil)
}

// verifyTxSig checks the signature of a transaction whose form is already
// checked; msg is its signing bytes and hash its Hash. With sigs, a
// verdict found there is not computed again, and a failure is kept.
func verifyTxSig(tx *Tx, msg []byte, hash Hash, sigs *sigCache) error {
	if tx.Type == TxReward || tx.signedAs(hash) { // the form checked From's address
		return nil
	}
	if sigs != nil {
		if sigs.has(hash) {
			return nil
		}
		if err, ok := sigs.failed(hash); ok {
			return err
		}
	}
	if err := VerifyBytes(tx.From, msg, tx.Signature); err != nil {
		err = fmt.Errorf("tx %s: %w", tx.ID, err)
		if sigs != nil {
			sigs.fail(hash, err)
		}
		return err
	}
	return nil
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

// CheckBlockSanity applies the rules that need no chain state, cheapest
// first: the header (checkHeader), then the body (checkBlockBody), then
// every signature. nowMillis bounds the timestamp.
func CheckBlockSanity(b *Block, p *Params, nowMillis int64) error {
	if err := checkHeader(&b.Header, b.Hash(), p, nowMillis); err != nil {
		return err
	}
	leaves, _, err := checkBlockBody(b, p)
	if err != nil {
		return err
	}
	return verifyTxSigs(b.Txs, leaves, nil)
}

// MinBits is the network's minimum difficulty: no block may carry fewer
// bits. It is Bits without retargeting, else the lower of Bits and the
// retarget floor. A block's header is checked against it (one hash)
// before anything else about the block is looked at or kept; the exact
// bits the difficulty rule requires are checked against the parent.
func (p *Params) MinBits() uint32 {
	if p.Retarget != nil {
		return min(p.Bits, p.Retarget.MinBits)
	}
	return p.Bits
}

// checkHeader applies the rules a header alone answers: version, not a
// second genesis, bits at least the network's minimum, the proof-of-work
// (hash is h.Hash()), and a timestamp not too far past nowMillis.
func checkHeader(h *Header, hash Hash, p *Params, nowMillis int64) error {
	if h.Version != BlockVersion {
		return ErrBadVersion
	}
	if h.Height == 0 {
		return ErrBadGenesis
	}
	if h.Bits < p.MinBits() {
		return fmt.Errorf("bits %d below %d: %w", h.Bits, p.MinBits(), ErrLowBits)
	}
	if !MeetsBits(hash, h.Bits) {
		return ErrBadPoW
	}
	if h.Timestamp > nowMillis+p.MaxFutureMillis {
		return ErrTimeTooNew
	}
	return nil
}

// checkBlockBody applies the context-free rules of a block's body, all but
// the signatures: limits, the reward's place, id and amount, the merkle
// root, ids within the block, and every transaction's form and card
// expiry. It returns the merkle leaves (the transactions' hashes) and the
// block's Size. The first failing transaction's first failing rule is the
// error.
func checkBlockBody(b *Block, p *Params) (leaves []Hash, size int, err error) {
	h := &b.Header
	if len(b.Txs) == 0 || b.Txs[0].Type != TxReward {
		return nil, 0, ErrNoCoinbase
	}
	if len(b.Txs) > p.MaxBlockTxs {
		return nil, 0, ErrTooManyTxs
	}
	// One pass builds each transaction's signing bytes once, in one
	// buffer reused from transaction to transaction: its size, then its
	// hash.
	leaves = make([]Hash, len(b.Txs))
	sizes := make([]int, len(b.Txs))
	size = HeaderSize
	var buf [hashBufSize]byte
	for i := range b.Txs {
		tx := &b.Txs[i]
		msg := tx.appendSigningBytes(buf[:0])
		sizes[i] = sizeOf(msg, tx.Signature)
		if size += sizes[i]; size > p.MaxBlockBytes {
			return nil, 0, ErrBlockTooLarge
		}
		leaves[i] = hashOf(msg, tx.Signature)
	}
	if MerkleRoot(leaves) != h.MerkleRoot {
		return nil, 0, ErrBadMerkleRoot
	}
	seen := make(map[txKey]struct{}, len(b.Txs))
	var fees int64
	for i := range b.Txs {
		tx := &b.Txs[i]
		if i > 0 && tx.Type == TxReward {
			return nil, 0, ErrExtraCoinbase
		}
		k := keyOf(tx)
		if _, dup := seen[k]; dup {
			return nil, 0, fmt.Errorf("tx %s: %w", tx.ID, ErrDuplicateInBlock)
		}
		seen[k] = struct{}{}
		if err := checkTxForm(tx, p, sizes[i]); err != nil {
			return nil, 0, fmt.Errorf("tx %s: %w", tx.ID, err)
		}
		if err := checkTxTime(tx, h.Timestamp); err != nil {
			return nil, 0, err
		}
		if i > 0 {
			if fees > math.MaxInt64-p.Reward-tx.Fee {
				return nil, 0, fmt.Errorf("block fees: %w", ErrAmountOverflow)
			}
			fees += tx.Fee
		}
	}
	if want := RewardID(h.Height, h.PrevHash); b.Txs[0].ID != want {
		return nil, 0, fmt.Errorf("reward id %s, want %s: %w", b.Txs[0].ID, want, ErrBadRewardID)
	}
	if b.Txs[0].Amount != p.Reward+fees {
		return nil, 0, fmt.Errorf("reward %d, want %d + %d fees: %w", b.Txs[0].Amount, p.Reward, fees, ErrBadReward)
	}
	return leaves, size, nil
}

// parallelSigsMin is the number of signatures from which verifyTxSigs
// spreads the work over several goroutines.
var parallelSigsMin = 4

// verifyTxSigs checks the signatures of transactions whose form is
// already checked, on up to GOMAXPROCS goroutines, and returns the error
// of the first (lowest-index) transaction that fails. hashes[i] is
// txs[i].Hash(). With sigs, a transaction verified before is not verified
// again, and one that failed before fails the block at once.
func verifyTxSigs(txs []Tx, hashes []Hash, sigs *sigCache) error {
	var hits []bool
	if sigs != nil {
		hits = make([]bool, len(txs))
		need := 0
		for i := range txs {
			if err, bad := sigs.failed(hashes[i]); bad {
				return err
			}
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
		return verifyTxSig(tx, tx.SigningBytes(), hashes[i], sigs)
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
