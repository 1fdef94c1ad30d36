package index

import (
	"os"

	"golang.org/x/sys/unix"
)

// byteLocks says this system has the locks importlock.go relies on: Linux's
// open file description locks, which conflict between two descriptors of
// one process too (a status in the process that imports sees the lock).
const byteLocks = true

// lockByte takes an exclusive lock on byte off of f, failing if another
// descriptor holds it.
func lockByte(f *os.File, off int64) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: off, Len: 1}
	return unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
}

// byteLocked tells whether another descriptor holds a lock on byte off.
func byteLocked(f *os.File, off int64) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: off, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}
