//go:build !amd64 || purego

package chain

// hasSHANI is false where there is no SHA-NI block function: the miner
// restores the midstate through crypto/sha256's marshalled form.
const hasSHANI = false

func compressBlock(*[8]uint32, *[64]byte) { panic("chain: compressBlock without SHA-NI") }

func searchBlocks(*[8]uint32, *[64]byte, uint64, uint64, uint64, uint32) uint64 {
	panic("chain: searchBlocks without SHA-NI")
}
