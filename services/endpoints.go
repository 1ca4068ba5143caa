package services

import (
	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// responder answers the node's request-reply endpoints (the micro service
// pycotr-node): info and consensus with the node's state, blocks with a
// sync page.
type responder struct{ n *Node }

func (r responder) State() events.NodeState { return r.n.State() }

func (r responder) BlocksAfter(req events.BlocksRequest) events.BlocksReply {
	maxBlocks := req.MaxBlocks
	if maxBlocks <= 0 || maxBlocks > events.MaxBlocksPerPage {
		maxBlocks = events.MaxBlocksPerPage
	}
	maxBytes := req.MaxBytes
	if limit := events.MaxReplyMessage / 2; maxBytes <= 0 || maxBytes > limit {
		maxBytes = limit
	}
	c := r.n.chain
	blocks, more := c.BlocksAfter(req.Locator, maxBlocks, maxBytes)
	out := events.BlocksReply{More: more, TipHeight: c.Height(), Blocks: make([]chain.Block, len(blocks))}
	for i, b := range blocks {
		out.Blocks[i] = *b
	}
	return out
}
