package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to $MAILDIAG_CPUPROFILE when it is set:
// the way to see where a slow import or query spends its time.
func startProfile() func() {
	path := os.Getenv("MAILDIAG_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
