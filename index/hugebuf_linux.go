package index

import "syscall"

// hugeBuffer returns size bytes of memory the kernel is asked to back with
// huge pages: one fault for 2 MiB instead of one per 4 KiB. It is never
// freed.
func hugeBuffer(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, size)
	}
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) // only a hint: without it, small pages
	return b
}
