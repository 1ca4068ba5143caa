//go:build !amd64 || purego

package powsearch

// hasSHANI is false where there is no SHA-NI block function: the miner
// restores the midstate through crypto/sha256's marshalled form.
const hasSHANI = false

func compressBlock(*[8]uint32, *[64]byte) { panic("powsearch: compressBlock without SHA-NI") }

func searchBlocks(*[8]uint32, *[64]byte, uint64, uint64, uint64, uint32) uint64 {
	panic("powsearch: searchBlocks without SHA-NI")
}

func searchSHANI(*[8]uint32, *[64]byte, uint64, uint64, uint64, uint64) uint64 {
	panic("powsearch: searchSHANI without SHA-NI")
}
