//go:build !linux

package services

import "os"

// datasync flushes f's data (fsync where fdatasync is not available).
func datasync(f *os.File) error { return f.Sync() }
