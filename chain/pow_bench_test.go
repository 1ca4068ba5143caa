package chain

import (
	"crypto/sha256"
	"testing"
)

func benchHeader() Header {
	return Header{Version: 1, Height: 7, Timestamp: 1648339200000, Bits: 255}
}

// BenchmarkSHA256Compression measures this CPU's SHA-256 compression rate:
// long-message throughput divided by the 64-byte block size.
func BenchmarkSHA256Compression(b *testing.B) {
	buf := make([]byte, 16<<10)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sha256.Sum256(buf)
	}
	b.ReportMetric(float64(b.N)*float64(len(buf)/64)/b.Elapsed().Seconds(), "compressions/s")
}

// BenchmarkPoWTry measures proof-of-work tries per second on one core.
func BenchmarkPoWTry(b *testing.B) {
	h := benchHeader()
	ms, err := newMidstate(&h)
	if err != nil {
		b.Fatal(err)
	}
	var n uint64
	for b.Loop() {
		n++
		if _, err := ms.try(n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
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
