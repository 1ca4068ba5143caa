//go:build amd64 && !purego

package powsearch

// The proof-of-work try compresses one 64-byte block from the saved
// midstate. crypto/sha256 offers that only through MarshalBinary and
// UnmarshalBinary, whose copying costs more than the compression itself
// on a CPU with the SHA extensions; with them, the miner calls Go's own
// SHA-NI block function (copied into shani_amd64.s) on a copy of the state.

//go:noescape
func blockSHANI(dig *[8]uint32, p []byte)

// searchSHANI is the miner's inner loop (shani_amd64.s): from the midstate,
// it tries the nonces start, start+stride, ... (count of them, count > 0)
// in tail's bytes 24..31 and returns the index of the first whose hash's
// first word is below limit, or count.
//
//go:noescape
func searchSHANI(state *[8]uint32, tail *[64]byte, start, stride, count, limit uint64) uint64

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// hasSHANI: the CPU has the SHA extensions and everything blockSHANI
// uses (AVX with OS support, SSE4.1, SSSE3).
var hasSHANI = detectSHANI()

func detectSHANI() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const ssse3, sse41, osxsave, avx = 1 << 9, 1 << 19, 1 << 27, 1 << 28
	if ecx1&(ssse3|sse41|osxsave|avx) != ssse3|sse41|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // the OS saves XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<29) != 0
}

// compressBlock runs the SHA-256 compression function on state with one
// 64-byte block. Only call it when hasSHANI.
func compressBlock(state *[8]uint32, block *[64]byte) { blockSHANI(state, block[:]) }

// searchBlocks returns the index of the first of count tries (nonces
// start, start+stride, ...) whose hash's first 32 bits have at least
// min(bits, 32) leading zeros, or count. Only call it when hasSHANI.
func searchBlocks(state *[8]uint32, tail *[64]byte, start, stride, count uint64, bits uint32) uint64 {
	return searchSHANI(state, tail, start, stride, count, uint64(1)<<(32-min(bits, 32)))
}
