package powsearch

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// benchHeader is chain's benchmark header (version 1, height 7, time
// 1648339200000, bits 255) encoded.
func benchHeader() *[HeaderSize]byte {
	var h [HeaderSize]byte
	binary.BigEndian.PutUint32(h[0:], 1)
	binary.BigEndian.PutUint64(h[4:], 7)
	binary.BigEndian.PutUint64(h[76:], 1648339200000)
	binary.BigEndian.PutUint32(h[84:], 255)
	return &h
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
	ms, err := New(benchHeader())
	if err != nil {
		b.Fatal(err)
	}
	var n uint64
	for b.Loop() {
		n++
		if _, err := ms.Hash(n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
