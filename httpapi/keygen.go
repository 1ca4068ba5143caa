package httpapi

import (
	"crypto/rsa"
	"net/http"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// keyGenRetry is the Retry-After of a refused key generation: an RSA-2048
// key takes about 0.2 s of CPU, so a slot frees within a second.
const keyGenRetry = time.Second

// generateKey makes a wallet key for GET /create_key and POST
// /api/v1/keys. Each costs about 0.2 s of one CPU, so at most
// Config.MaxKeyGen run at once (one per CPU by default); beyond that the
// request is refused at once with 429 and Retry-After rather than queued,
// so a flood of them cannot starve the miner, intake and sync.
func (a *api) generateKey() (*rsa.PrivateKey, error) {
	select {
	case a.keygen <- struct{}{}:
	default:
		return nil, retryLater(http.StatusTooManyRequests, codeTooManyRequests, keyGenRetry,
			"%d key generations are under way, the most this node runs at once: retry shortly", cap(a.keygen))
	}
	defer func() { <-a.keygen }()
	if a.hooks.generateKey != nil {
		return a.hooks.generateKey()
	}
	return chain.GenerateKey()
}
