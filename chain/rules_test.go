package chain

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"crypto/rsa"
)

// weakAddress is the address of a 512-bit public key (no private key is
// needed: the rule is about the modulus size).
func weakAddress() Address {
	n := new(big.Int).Lsh(big.NewInt(1), 511)
	n.Add(n, big.NewInt(12345))
	return AddressOf(&rsa.PublicKey{N: n, E: 65537})
}

type rejectCase struct {
	name string
	want error
	mod  func(*Config)          // optional chain config change
	prep func(h *harness)       // optional setup before the snapshot
	run  func(h *harness) error // the rejected input
}

// txCase rejects a transaction built by mk through AcceptTx.
func txCase(name string, want error, mk func(h *harness) Tx) rejectCase {
	return rejectCase{name: name, want: want, run: func(h *harness) error {
		tx := mk(h)
		return h.c.AcceptTx(&tx)
	}}
}

// blockCase rejects a block on the tip built by mk through ProcessBlock.
func blockCase(name string, want error, mk func(h *harness) *Block) rejectCase {
	return rejectCase{name: name, want: want, run: func(h *harness) error {
		_, err := h.c.ProcessBlock(mk(h))
		return err
	}}
}

// rejectCases: every rule, each asserting its exported error. Key 0 holds
// 100 (two rewards) before each case.
func rejectCases() []rejectCase {
	var replayed Tx // confirmed or pending, set by prep
	return []rejectCase{
		// --- signatures and keys
		txCase("bad signature", ErrBadSignature, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			tx.Amount = 11 // signed for 10
			return tx
		}),
		txCase("bad signature bytes", ErrBadSignature, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			c := byte('0')
			if tx.Signature[10] == '0' {
				c = '1'
			}
			tx.Signature = tx.Signature[:10] + string(c) + tx.Signature[11:]
			return tx
		}),
		txCase("wrong signer", ErrBadSignature, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			resign(h.t, &tx, 2)
			return tx
		}),
		txCase("signature not hex", ErrSigEncoding, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			tx.Signature = "zz" + tx.Signature[2:]
			return tx
		}),
		txCase("missing signature", ErrSigEncoding, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			tx.Signature = ""
			return tx
		}),
		txCase("bad recipient address", ErrBadAddress, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			tx.To = "00ff"
			resign(h.t, &tx, 0)
			return tx
		}),
		txCase("uppercase address", ErrBadAddress, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			tx.To = Address(strings.ToUpper(string(tx.To)))
			resign(h.t, &tx, 0)
			return tx
		}),
		txCase("recipient key of 512 bits", ErrWeakKey, func(h *harness) Tx {
			tx, err := NewTransfer(key(0), weakAddress(), 10, 1, "")
			if err != nil {
				h.t.Fatal(err)
			}
			return tx
		}),
		// --- ids and replays
		{name: "replayed id on chain", want: ErrDuplicateTx,
			prep: func(h *harness) { replayed = transfer(h.t, 0, 1, 10, 1); h.mine(3, replayed) },
			run:  func(h *harness) error { tx := replayed; return h.c.AcceptTx(&tx) }},
		{name: "replayed id already pending", want: ErrAlreadyPending,
			prep: func(h *harness) { replayed = transfer(h.t, 0, 1, 10, 1); h.accept(replayed) },
			run:  func(h *harness) error { tx := replayed; return h.c.AcceptTx(&tx) }},
		{name: "other tx reusing a pending id", want: ErrAlreadyPending,
			prep: func(h *harness) { replayed = transfer(h.t, 0, 1, 10, 1); h.accept(replayed) },
			run: func(h *harness) error {
				tx, err := NewTransfer(key(0), addr(2), 5, 0, replayed.ID)
				if err != nil {
					h.t.Fatal(err)
				}
				return h.c.AcceptTx(&tx)
			}},
		txCase("uppercase signature hex", ErrSigEncoding, func(h *harness) Tx {
			tx, _ := NewTransfer(key(0), addr(1), 10, 1, "")
			tx.Signature = strings.ToUpper(tx.Signature)
			return tx
		}),
		txCase("non-canonical uuid (uppercase)", ErrBadTxID, func(h *harness) Tx {
			tx, _ := NewTransfer(key(0), addr(1), 10, 1, strings.ToUpper(NewTxID()))
			return tx
		}),
		txCase("non-canonical uuid (no dashes)", ErrBadTxID, func(h *harness) Tx {
			tx, _ := NewTransfer(key(0), addr(1), 10, 1, strings.ReplaceAll(NewTxID(), "-", ""))
			return tx
		}),
		txCase("non-canonical uuid (braces)", ErrBadTxID, func(h *harness) Tx {
			tx, _ := NewTransfer(key(0), addr(1), 10, 1, "{"+NewTxID()+"}")
			return tx
		}),
		// --- amounts
		txCase("zero amount", ErrBadAmount, func(h *harness) Tx { return transfer(h.t, 0, 1, 0, 1) }),
		txCase("negative amount", ErrBadAmount, func(h *harness) Tx { return transfer(h.t, 0, 1, -5, 1) }),
		txCase("overflowing amount", ErrAmountOverflow, func(h *harness) Tx { return transfer(h.t, 0, 1, MaxAmount+1, 0) }),
		txCase("max int64 amount", ErrAmountOverflow, func(h *harness) Tx { return transfer(h.t, 0, 1, math.MaxInt64, math.MaxInt64) }),
		txCase("negative fee", ErrBadFee, func(h *harness) Tx { return transfer(h.t, 0, 1, 10, -1) }),
		txCase("overflowing fee", ErrAmountOverflow, func(h *harness) Tx { return transfer(h.t, 0, 1, 1, MaxAmount+1) }),
		txCase("insufficient funds", ErrInsufficientFund, func(h *harness) Tx { return transfer(h.t, 0, 1, 100, 1) }),
		txCase("empty wallet", ErrInsufficientFund, func(h *harness) Tx { return transfer(h.t, 4, 1, 1, 0) }),
		{name: "overspend across two pending txs", want: ErrInsufficientFund,
			prep: func(h *harness) { h.accept(transfer(h.t, 0, 1, 60, 1)) },
			run:  func(h *harness) error { tx := transfer(h.t, 0, 2, 39, 1); return h.c.AcceptTx(&tx) }},
		{name: "mint fee above spendable", want: ErrInsufficientFund,
			prep: func(h *harness) { h.accept(transfer(h.t, 0, 1, 95, 5)) },
			run:  func(h *harness) error { tx := mint(h.t, 0, 1000, 1); return h.c.AcceptTx(&tx) }},
		// --- types and shapes
		txCase("unknown type", ErrUnknownTxType, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			tx.Type = "gift"
			resign(h.t, &tx, 0)
			return tx
		}),
		txCase("self transfer", ErrSelfTransfer, func(h *harness) Tx { return transfer(h.t, 0, 0, 10, 1) }),
		txCase("mint not to self", ErrMintNotToSelf, func(h *harness) Tx {
			tx := mint(h.t, 0, 10, 0)
			tx.To = addr(1)
			resign(h.t, &tx, 0)
			return tx
		}),
		txCase("mint without card", ErrMissingCard, func(h *harness) Tx {
			tx := mint(h.t, 0, 10, 0)
			tx.Card = nil
			resign(h.t, &tx, 0)
			return tx
		}),
		txCase("card on a transfer", ErrUnexpectedCard, func(h *harness) Tx {
			tx := transfer(h.t, 0, 1, 10, 1)
			c := testCard(h.t, "2099-12")
			tx.Card = &c
			resign(h.t, &tx, 0)
			return tx
		}),
		txCase("card with a full number", ErrBadCardData, func(h *harness) Tx {
			tx := mint(h.t, 0, 10, 0)
			tx.Card.Masked = "4111111111111111"
			resign(h.t, &tx, 0)
			return tx
		}),
		txCase("card with bad expiry", ErrBadCardData, func(h *harness) Tx {
			tx := mint(h.t, 0, 10, 0)
			tx.Card.Expiry = "2099-02-30"
			resign(h.t, &tx, 0)
			return tx
		}),
		{name: "bad card number (Luhn)", want: ErrBadCardNumber, run: func(h *harness) error {
			_, err := NewCard(CardInput{Number: "4111-1111-1111-1112", Expiry: "2099-12", CVV: "123", Holder: "Ada"})
			return err
		}},
		txCase("card expired before admission clock", ErrCardExpired, func(h *harness) Tx {
			// valid at the genesis time, expired by the node's clock
			tx, _ := NewMint(key(0), testCard(h.t, "2024-01-15"), 10, 0, "")
			return tx
		}),
		txCase("reward in mempool", ErrRewardInMempool, func(h *harness) Tx { return NewReward(1, h.gen.Hash(), addr(0), 50) }),
		{name: "tx too large", want: ErrTxTooLarge,
			mod: func(c *Config) { c.Params.MaxTxBytes = 600 },
			run: func(h *harness) error { tx := transfer(h.t, 0, 1, 10, 1); return h.c.AcceptTx(&tx) }},
		{name: "mempool full", want: ErrMempoolFull,
			mod:  func(c *Config) { c.Mempool.MaxTxs = 1 },
			prep: func(h *harness) { h.accept(transfer(h.t, 0, 1, 10, 5)) },
			run:  func(h *harness) error { tx := transfer(h.t, 0, 2, 10, 9); return h.c.AcceptTx(&tx) }},

		// --- blocks: coinbase
		blockCase("two coinbases", ErrExtraCoinbase, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) {
				b.Txs = append(b.Txs, NewReward(b.Header.Height, b.Header.PrevHash, addr(2), 0+1))
				b.Txs[0].Amount = h.p.Reward
				remerkle(b)
			})
		}),
		blockCase("coinbase overpaying by 1", ErrBadReward, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 0, 1, 10, 3)}, func(b *Block) {
				b.Txs[0].Amount++
				remerkle(b)
			})
		}),
		blockCase("coinbase underpaying fees", ErrBadReward, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 0, 1, 10, 3)}, func(b *Block) {
				b.Txs[0].Amount = h.p.Reward
				remerkle(b)
			})
		}),
		blockCase("no coinbase", ErrNoCoinbase, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 0, 1, 10, 0)}, func(b *Block) {
				b.Txs = b.Txs[1:]
				remerkle(b)
			})
		}),
		blockCase("empty block", ErrNoCoinbase, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Txs = nil; remerkle(b) })
		}),
		blockCase("coinbase not first", ErrNoCoinbase, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 0, 1, 10, 0)}, func(b *Block) {
				b.Txs[0], b.Txs[1] = b.Txs[1], b.Txs[0]
				remerkle(b)
			})
		}),
		blockCase("signed coinbase", ErrRewardSigned, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) {
				b.Txs[0].From = addr(1)
				remerkle(b)
			})
		}),
		// --- blocks: header
		blockCase("bad merkle root", ErrBadMerkleRoot, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 0, 1, 10, 0)}, func(b *Block) {
				b.Header.MerkleRoot[0] ^= 1
			})
		}),
		blockCase("tx changed after merkle root", ErrBadMerkleRoot, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Txs[0].To = addr(2) })
		}),
		blockCase("bad proof-of-work", ErrBadPoW, func(h *harness) *Block {
			b := h.build(h.tipBlock(), addr(1), nil, nil)
			for MeetsBits(b.Hash(), b.Header.Bits) {
				b.Header.Nonce++
			}
			return b
		}),
		blockCase("wrong prev hash at height 1", ErrBadPrevHash, func(h *harness) *Block {
			return h.build(h.gen, addr(1), nil, func(b *Block) { b.Header.PrevHash[5] ^= 0x40 })
		}),
		blockCase("wrong height", ErrBadHeight, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Height += 3 })
		}),
		blockCase("height repeats parent's", ErrBadHeight, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Height-- })
		}),
		blockCase("wrong bits (harder)", ErrBadBits, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Bits++ })
		}),
		blockCase("bits below the network minimum", ErrLowBits, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Bits-- })
		}),
		blockCase("timestamp too far ahead", ErrTimeTooNew, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) {
				b.Header.Timestamp = h.clock.Now().UnixMilli() + h.p.MaxFutureMillis + 1
			})
		}),
		blockCase("timestamp equal to median-time-past", ErrTimeTooOld, func(h *harness) *Block {
			// tip chain G(t0), t0+1s, t0+2s: the median of three is t0+1s
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Timestamp = t0 + 1000 })
		}),
		blockCase("timestamp before genesis", ErrTimeTooOld, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Timestamp = t0 - 1 })
		}),
		blockCase("bad version", ErrBadVersion, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Version = 2 })
		}),
		blockCase("height 0, not the genesis", ErrBadGenesis, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Height = 0; b.Header.PrevHash = ZeroHash })
		}),
		blockCase("genesis again", ErrDuplicateBlock, func(h *harness) *Block { return h.gen }),
		{name: "duplicate block", want: ErrDuplicateBlock,
			prep: func(h *harness) { h.mine(1) },
			run:  func(h *harness) error { _, err := h.c.ProcessBlock(h.tipBlock()); return err }},
		// --- blocks: limits
		{name: "oversized block", want: ErrBlockTooLarge,
			mod: func(c *Config) { c.Params.MaxBlockBytes = 2500 },
			run: func(h *harness) error {
				b := h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 0, 1, 1, 0), transfer(h.t, 0, 2, 1, 0), transfer(h.t, 0, 3, 1, 0)}, nil)
				_, err := h.c.ProcessBlock(b)
				return err
			}},
		{name: "too many txs", want: ErrTooManyTxs,
			mod: func(c *Config) { c.Params.MaxBlockTxs = 3 },
			run: func(h *harness) error {
				b := h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 0, 1, 1, 0), transfer(h.t, 0, 2, 1, 0), transfer(h.t, 0, 3, 1, 0)}, nil)
				_, err := h.c.ProcessBlock(b)
				return err
			}},
		// --- blocks: transactions
		blockCase("duplicate tx in block", ErrDuplicateInBlock, func(h *harness) *Block {
			tx := transfer(h.t, 0, 1, 10, 0)
			return h.build(h.tipBlock(), addr(1), []Tx{tx, tx}, nil)
		}),
		blockCase("same id, different tx, in block", ErrDuplicateInBlock, func(h *harness) *Block {
			tx := transfer(h.t, 0, 1, 10, 0)
			tx2, _ := NewTransfer(key(0), addr(2), 3, 0, tx.ID)
			return h.build(h.tipBlock(), addr(1), []Tx{tx, tx2}, nil)
		}),
		{name: "tx spent twice across blocks", want: ErrDuplicateTx,
			prep: func(h *harness) { replayed = transfer(h.t, 0, 1, 10, 1); h.mine(3, replayed) },
			run: func(h *harness) error {
				_, err := h.c.ProcessBlock(h.build(h.tipBlock(), addr(1), []Tx{replayed}, nil))
				return err
			}},
		blockCase("overspend in block", ErrInsufficientFund, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 0, 1, 60, 0), transfer(h.t, 0, 2, 41, 0)}, nil)
		}),
		blockCase("spend of coins received later in the block", ErrInsufficientFund, func(h *harness) *Block {
			return h.build(h.tipBlock(), addr(1), []Tx{transfer(h.t, 4, 5, 10, 0), transfer(h.t, 0, 4, 60, 0)}, nil)
		}),
		blockCase("bad signature in block", ErrBadSignature, func(h *harness) *Block {
			tx := transfer(h.t, 0, 1, 10, 0)
			tx.To = addr(2)
			return h.build(h.tipBlock(), addr(1), []Tx{tx}, nil)
		}),
		blockCase("card expired at block time", ErrCardExpired, func(h *harness) *Block {
			// the card's last day is 2023-12-31; the block is on 2024-01-01
			tx, _ := NewMint(key(0), testCard(h.t, "2023-12"), 10, 0, "")
			return h.build(h.tipBlock(), addr(1), []Tx{tx}, nil)
		}),
		{name: "child of a known-invalid block", want: ErrKnownInvalid,
			prep: func(h *harness) {
				// A side branch that ties, then overtakes with a block
				// that fails against the branch's ledger: it is stored,
				// and marked invalid when the reorg fails. (A block on
				// the tip that overspends is refused before it is stored.)
				fork, _ := h.c.BlockAt(h.c.Height() - 1)
				tie := h.build(fork, addr(2), nil, nil)
				h.mustProcess(tie)
				bad := h.build(tie, addr(1), []Tx{transfer(h.t, 0, 1, 200, 0)}, nil)
				if _, err := h.c.ProcessBlock(bad); !errors.Is(err, ErrInsufficientFund) {
					h.t.Fatalf("prep: %v", err)
				}
				replayed = bad.Txs[0]
			},
			run: func(h *harness) error {
				// find the invalid block stored in the tree and build on it
				h.c.mu.RLock()
				var bad *Block
				for _, n := range h.c.index {
					if n.invalid {
						bad = n.block
					}
				}
				h.c.mu.RUnlock()
				_, err := h.c.ProcessBlock(h.build(bad, addr(1), nil, nil))
				return err
			}},
		{name: "total supply overflow", want: ErrAmountOverflow,
			mod: func(c *Config) { c.Params.Reward = math.MaxInt64/2 - 10 },
			run: func(h *harness) error {
				_, err := h.c.ProcessBlock(h.build(h.tipBlock(), addr(1), nil, nil))
				return err
			}},
	}
}

func TestRejections(t *testing.T) {
	cases := rejectCases()
	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.mod)
			h.mine(0)
			h.mine(0)
			if tc.prep != nil {
				tc.prep(h)
			}
			before := h.snap()
			err := tc.run(h)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if re, ok := AsRuleError(err); !ok || re != tc.want {
				t.Fatalf("AsRuleError(%v) = %v, want the rule itself", err, re)
			}
			h.assertUnchanged(before)
		})
	}
	t.Logf("%d rejection cases", len(cases))
}

// Positive counterparts of the boundary rules above.
func TestAcceptedBoundaries(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0)
	h.mine(0) // tip at t0+2s, median-time-past t0+1s

	// one millisecond after the median is enough
	b := h.build(h.tipBlock(), addr(1), nil, func(b *Block) { b.Header.Timestamp = t0 + 1001 })
	h.mustProcess(b)
	// exactly MaxFutureMillis ahead of the clock is allowed
	b = h.build(h.tipBlock(), addr(1), nil, func(b *Block) {
		b.Header.Timestamp = h.clock.Now().UnixMilli() + h.p.MaxFutureMillis
	})
	h.mustProcess(b)

	// a card expired by the node's clock is still valid in a block dated
	// before its expiry: consensus reads the block time, never the clock
	h2 := newHarness(t, nil)
	tx, err := NewMint(key(0), testCard(t, "2024-01-15"), 10, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h2.c.AcceptTx(&tx); !errors.Is(err, ErrCardExpired) {
		t.Fatalf("AcceptTx: %v, want expired by the clock", err)
	}
	h2.mine(1, tx)
	if got := h2.c.Balance(addr(0)); got != 10 {
		t.Fatalf("balance %d after mint", got)
	}
	// the card's last day is still valid: expiry 2024-01-01 at t0+1s
	h3 := newHarness(t, nil)
	tx, _ = NewMint(key(0), testCard(t, "2024-01-01"), 10, 0, "")
	h3.mine(1, tx)

	// exactly balance: amount + fee == balance
	h.accept(transfer(t, 0, 1, 90, 10))
	tx2 := transfer(t, 0, 1, 1, 0)
	if err := h.c.AcceptTx(&tx2); !errors.Is(err, ErrInsufficientFund) {
		t.Fatalf("want insufficient funds, got %v", err)
	}
	// a reward larger than MaxAmount is fine when fees make it so
	h4 := newHarness(t, func(c *Config) { c.Params.MaxBlockTxs = 3 })
	big1 := mint(t, 0, MaxAmount, 0)
	h4.mine(0, big1)
	h4.mine(0, mint(t, 0, MaxAmount, 0))
	feeTx := transfer(t, 0, 1, 1, MaxAmount)
	h4.accept(feeTx)
	tmpl := h4.c.Template(addr(2))
	solve(t, tmpl)
	h4.mustProcess(tmpl)
	if got := h4.c.Balance(addr(2)); got != MaxAmount+h4.p.Reward {
		t.Fatalf("miner got %d", got)
	}
	h4.checkConsistent()
}

func TestHeightOneUnknownParentIsNotOrphan(t *testing.T) {
	h := newHarness(t, nil)
	other := testGenesis(t, Params{Bits: 4, GenesisMessage: "another network"})
	b := h.build(other, addr(1), nil, nil)
	before := h.snap()
	if _, err := h.c.ProcessBlock(b); !errors.Is(err, ErrBadPrevHash) {
		t.Fatalf("err %v", err)
	}
	h.assertUnchanged(before)
}
