//go:build !linux

package index

// hugeBuffer returns size bytes; huge pages are asked for on Linux only.
func hugeBuffer(size int) []byte { return make([]byte, size) }
