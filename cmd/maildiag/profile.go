package main

import (
	"os"
	"runtime/pprof"
	rtrace "runtime/trace"
	"syscall"
	"time"
)

// startProfile writes a CPU profile to $MAILDIAG_CPUPROFILE when it is set:
// the way to see where a slow import or query spends its time; and a heap
// profile to $MAILDIAG_MEMPROFILE when the command ends, as of the last
// collection (not one forced at the end, which would find the import's
// caches already dropped); and an execution trace to $MAILDIAG_TRACE, which
// shows which of an import's goroutines waits for which.
func startProfile() func() {
	stop := func() {}
	if path := os.Getenv("MAILDIAG_TRACE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if err := rtrace.Start(f); err != nil {
				f.Close()
			} else {
				stop = func() {
					rtrace.Stop()
					f.Close()
				}
			}
		}
	}
	if path := os.Getenv("MAILDIAG_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
			} else {
				prev := stop
				stop = func() {
					pprof.StopCPUProfile()
					f.Close()
					prev()
				}
			}
		}
	}
	mem := os.Getenv("MAILDIAG_MEMPROFILE")
	if mem == "" {
		return stop
	}
	return func() {
		stop()
		if f, err := os.Create(mem); err == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
}

// cpuSeconds is the CPU time the process has used, user and system: on a
// busy machine it tells a change's cost where wall time cannot.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
