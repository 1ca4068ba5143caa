package chain

import (
	"fmt"
	"math"

	"github.com/google/uuid"
)

// CheckTxSanity applies the context-free rules to a transaction: form,
// amounts, card data and signature. It needs no chain state.
func CheckTxSanity(tx *Tx, p *Params) error {
	if err := checkTxForm(tx, p); err != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, err)
	}
	if tx.Type == TxReward {
		return nil
	}
	if err := VerifyBytes(tx.From, tx.SigningBytes(), tx.Signature); err != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, err)
	}
	return nil
}

func checkTxForm(tx *Tx, p *Params) error {
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
	if p.MaxTxBytes > 0 && tx.Size() > p.MaxTxBytes {
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
	if b.ComputeMerkleRoot() != h.MerkleRoot {
		return ErrBadMerkleRoot
	}
	seen := make(map[string]struct{}, len(b.Txs))
	var fees int64
	for i := range b.Txs {
		tx := &b.Txs[i]
		if i > 0 && tx.Type == TxReward {
			return ErrExtraCoinbase
		}
		if _, dup := seen[tx.ID]; dup {
			return fmt.Errorf("tx %s: %w", tx.ID, ErrDuplicateInBlock)
		}
		seen[tx.ID] = struct{}{}
		if err := CheckTxSanity(tx, p); err != nil {
			return err
		}
		if err := checkTxTime(tx, h.Timestamp); err != nil {
			return err
		}
		if i > 0 {
			if fees > math.MaxInt64-p.Reward-tx.Fee {
				return fmt.Errorf("block fees: %w", ErrAmountOverflow)
			}
			fees += tx.Fee
		}
	}
	if b.Txs[0].Amount != p.Reward+fees {
		return fmt.Errorf("reward %d, want %d + %d fees: %w", b.Txs[0].Amount, p.Reward, fees, ErrBadReward)
	}
	return nil
}
