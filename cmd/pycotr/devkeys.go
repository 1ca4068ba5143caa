package main

import (
	"crypto/rsa"
	"embed"
	"fmt"
	"strings"

	"github.com/pycotr/pycotr/chain"
)

// developmentKeys are the published, not-secret miner keys of the local
// development network (see devkeys/README.md).
//
//go:embed devkeys/*.dev.key
var developmentKeys embed.FS

// developmentKey returns the development miner key of node n (1-based),
// or false when there is none for n.
func developmentKey(n int) (*rsa.PrivateKey, bool, error) {
	data, err := developmentKeys.ReadFile(fmt.Sprintf("devkeys/node-%d.dev.key", n))
	if err != nil {
		return nil, false, nil
	}
	k, err := chain.ParsePrivateKey(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, false, fmt.Errorf("development key %d: %w", n, err)
	}
	return k, true, nil
}
