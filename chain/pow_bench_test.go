package chain

import "testing"

func benchHeader() Header {
	return Header{Version: 1, Height: 7, Timestamp: 1648339200000, Bits: 255}
}

// BenchmarkPoWNaive is the baseline: Sum256 of the whole 96-byte header.
func BenchmarkPoWNaive(b *testing.B) {
	h := benchHeader()
	for b.Loop() {
		h.Nonce++
		h.Hash()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
