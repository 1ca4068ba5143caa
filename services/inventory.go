package services

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// Inventory exchange: the pools of connected nodes converge, whatever
// relay was lost (a partition, a restart, a pool that refused a relay for
// lack of room). Every InventoryInterval, and at once when a peer appears
// or NATS reconnects, the node asks two live peers picked at random (each
// peer in a network of three), in turn, on
// <prefix>.node.<id>.inv, for its pool's digest (count and XOR of the
// transactions' hashes), sending its own: equal digests end the exchange
// in one small round trip. Otherwise the peer pages through its pending
// hashes, the node picks those it lacks, and fetches them on
// <prefix>.node.<id>.txs, through the same checks as a relay. It is pull
// only: nothing is announced; each node takes what it is missing. A hash
// is fetched only once two listings of the same peer, a round apart, found
// it missing: a relay still in flight arrives in between, so under load
// the exchange does not race the relay and verify every transaction twice.
//
// Bounds: at most InventoryRoundBytes of replies per peer per round (the
// listing resumes where it stopped at the next round); a listing that
// found nothing to take is not repeated while neither pool changes; a
// transaction the node refused is not asked for again until its tip
// moves (a new block is the only thing that can change the verdict), nor
// anything while its pool is full and its tip has not moved.

const (
	invTimeout    = 2 * time.Second
	invFetchBytes = 256 << 10 // per transactions request
	invHashBytes  = 67        // a hash in a JSON page: 64 hex digits, quotes, comma
	maxRefused    = 1 << 16   // refused hashes remembered; beyond, forgotten at once
)

// inventory is the exchange's memory; only the inventory loop uses it.
type inventory struct {
	peers   map[string]*invPeer
	refused map[chain.Hash]chain.Hash // transaction -> our tip when we refused it
	fullAt  chain.Hash                // our tip when our pool was full
}

// invPeer is what the last exchange with a peer left.
type invPeer struct {
	after chain.Hash // resume the listing after this hash
	// When a whole listing had nothing for us: our digest and tip, and
	// the peer's digest. While ours are the same, the peer need not list
	// that pool again.
	mine, tip, theirs chain.Hash
	// What the listing in progress found missing so far (cur), and what
	// the last whole listing found missing (prev): a hash is fetched only
	// if it is in prev too.
	prev, cur map[chain.Hash]struct{}
}

// inventorySample is the number of peers one inventory round asks.
const inventorySample = 2

// requestInventory asks the inventory loop for a round soon.
func (n *Node) requestInventory() {
	select {
	case n.invReq <- struct{}{}:
	default:
	}
}

func (n *Node) inventoryLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.InventoryInterval)
	defer t.Stop()
	inv := &inventory{peers: map[string]*invPeer{}, refused: map[chain.Hash]chain.Hash{}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.invReq:
		}
		if !n.natsConnected() {
			continue
		}
		// A sample of the peers, not all of them: asking each of N − 1
		// peers every round would cost a node O(N) requests a second and
		// the network O(N²) (issue 19, docs/SCALING.md); pulling from
		// inventorySample random peers a round still spreads a
		// transaction to every pool in O(log N) rounds.
		for _, id := range n.peers.Sample(inventorySample) {
			if ctx.Err() != nil {
				return
			}
			n.exchange(ctx, inv, id)
		}
		for id := range inv.peers {
			if !n.peers.Known(id) {
				delete(inv.peers, id)
			}
		}
	}
}

// exchange takes from one peer the pending transactions this node lacks,
// within the round's byte budget.
func (n *Node) exchange(ctx context.Context, inv *inventory, peer string) {
	n.stats.invRounds.Add(1)
	st := inv.peers[peer]
	if st == nil {
		st = &invPeer{}
		inv.peers[peer] = st
	}
	count, digest := n.chain.PoolDigest()
	tip := n.chain.Tip().Hash
	budget := n.cfg.InventoryRoundBytes
	var (
		mine    map[chain.Hash]struct{}
		want    []chain.Hash
		theirs  chain.Hash
		whole   bool // the listing reached the peer's last hash
		started = st.after
	)
	var listed chain.Hash
	if started.IsZero() {
		st.cur = map[chain.Hash]struct{}{}
		if st.mine == digest && st.tip == tip {
			listed = st.theirs
		}
	}
	for budget > 0 {
		rctx, cancel := context.WithTimeout(ctx, invTimeout)
		page, size, err := n.bus.RequestInv(rctx, peer, events.InvRequest{Count: count, Digest: digest, Listed: listed,
			After: st.after, MaxHashes: max(1, min(events.MaxInvPage, budget/invHashBytes))})
		cancel()
		listed = chain.Hash{}
		budget -= size
		n.stats.invBytes.Add(uint64(size))
		if err != nil {
			if ctx.Err() == nil {
				n.stats.invFailures.Add(1)
				n.log.Debug("inventory", "peer", peer, "err", err)
			}
			return
		}
		if page.Same {
			n.stats.invInSync.Add(1)
			st.after, st.prev, st.cur = chain.Hash{}, nil, nil
			return
		}
		if page.Unchanged {
			n.stats.invUnchanged.Add(1)
			return
		}
		theirs = page.Digest
		if mine == nil {
			mine = make(map[chain.Hash]struct{}, count)
			for _, h := range n.chain.PendingHashes() {
				mine[h] = struct{}{}
			}
		}
		for _, h := range page.Hashes {
			if _, ok := mine[h]; ok {
				continue
			}
			if at, ok := inv.refused[h]; ok && at == tip {
				continue
			}
			st.cur[h] = struct{}{}
			if _, before := st.prev[h]; before {
				want = append(want, h)
			}
		}
		if len(page.Hashes) == 0 || !page.More {
			st.after, whole = chain.Hash{}, true
			break
		}
		st.after = page.Hashes[len(page.Hashes)-1]
	}
	if whole {
		if started.IsZero() && len(st.cur) == 0 {
			st.mine, st.tip, st.theirs = digest, tip, theirs
		}
		st.prev, st.cur = st.cur, nil
	}
	n.fetch(ctx, inv, peer, want, budget, tip)
}

// fetch asks peer for the wanted transactions and admits them.
func (n *Node) fetch(ctx context.Context, inv *inventory, peer string, want []chain.Hash, budget int, tip chain.Hash) {
	for len(want) > 0 && budget > 0 && inv.fullAt != tip {
		chunk := want[:min(len(want), events.MaxTxsRequest)]
		want = want[len(chunk):]
		asked := make(map[chain.Hash]bool, len(chunk))
		for _, h := range chunk {
			asked[h] = true
		}
		rctx, cancel := context.WithTimeout(ctx, invTimeout)
		reply, size, err := n.bus.RequestTxs(rctx, peer, events.TxsRequest{Hashes: chunk, MaxBytes: min(budget, invFetchBytes)})
		cancel()
		budget -= size
		n.stats.invBytes.Add(uint64(size))
		if err != nil {
			if ctx.Err() == nil {
				n.stats.invFailures.Add(1)
				n.log.Debug("inventory fetch", "peer", peer, "err", err)
			}
			return
		}
		for i := range reply.Txs {
			tx := &reply.Txs[i]
			h := tx.Hash()
			if !asked[h] {
				n.stats.natsDrop("inventory-unasked")
				continue
			}
			delete(asked, h)
			err := n.admitRelayed(peer, tx, "inventory")
			switch {
			case err == nil, errors.Is(err, chain.ErrAlreadyPending), errors.Is(err, chain.ErrDuplicateTx):
			case errors.Is(err, chain.ErrMempoolFull):
				inv.fullAt = tip
				return
			default:
				if len(inv.refused) >= maxRefused {
					clear(inv.refused)
				}
				inv.refused[h] = tip
			}
		}
	}
}

// Inventory answers <prefix>.node.<id>.inv: the pool's digest, and unless
// the requester's is the same, a page of pending hashes in ascending order.
func (r responder) Inventory(req events.InvRequest) events.InvReply {
	c := r.n.chain
	r.n.stats.invServed.Add(1)
	count, digest := c.PoolDigest()
	out := events.InvReply{Count: count, Digest: digest}
	switch {
	case req.Count == count && req.Digest == digest:
		out.Same = true
		return out
	case !req.Listed.IsZero() && req.Listed == digest:
		out.Unchanged = true
		return out
	}
	limit := req.MaxHashes
	if limit <= 0 || limit > events.MaxInvPage {
		limit = events.MaxInvPage
	}
	hs := c.PendingHashes()
	slices.SortFunc(hs, hashCmp)
	cmp := hashCmp
	i := 0
	if !req.After.IsZero() {
		var found bool
		i, found = slices.BinarySearchFunc(hs, req.After, cmp)
		if found {
			i++
		}
	}
	end := min(i+limit, len(hs))
	out.Hashes, out.More = hs[i:end], end < len(hs)
	return out
}

// PendingTxs answers <prefix>.node.<id>.txs: the asked transactions still
// pending, in the order asked, within the byte limit.
func (r responder) PendingTxs(req events.TxsRequest) events.TxsReply {
	limit := events.MaxReplyMessage / 2
	if p := int(r.n.bus.MaxPayload()) - 64<<10; p > 0 && p < limit {
		limit = p
	}
	if req.MaxBytes > 0 && req.MaxBytes < limit {
		limit = req.MaxBytes
	}
	var out events.TxsReply
	used := 0
	for _, tx := range r.n.chain.PendingByHash(req.Hashes) {
		data, err := json.Marshal(&tx)
		if err != nil {
			continue
		}
		if used+len(data)+1 > limit && len(out.Txs) > 0 {
			out.More = true
			break
		}
		used += len(data) + 1
		out.Txs = append(out.Txs, tx)
	}
	return out
}

// hashCmp orders hashes as bytes.Compare does, comparing their first eight
// bytes as one big-endian number first: hashes are uniform, so that
// decides nearly every comparison (sorting a pool's hashes for each
// listing page was 3 % of intake's CPU with bytes.Compare).
func hashCmp(a, b chain.Hash) int {
	if x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8]); x != y {
		if x < y {
			return -1
		}
		return 1
	}
	return bytes.Compare(a[8:], b[8:])
}
