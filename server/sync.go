package server

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/syncer"
)

// syncLease is the lease of the continuous sync: one server process at a
// time syncs, however many share the index.
const syncLease = "sync"

// SyncState is the last sync pass, as the lease's note keeps it.
type SyncState struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	OK       bool      `json:"ok"`
	Summary  string    `json:"summary,omitempty"`
	Error    string    `json:"error,omitempty"`
	By       string    `json:"by"` // the server process that ran it
}

// syncLoop runs a pass every SyncEvery while it holds the lease.
func (s *Server) syncLoop(ctx context.Context) {
	if s.cfg.Sync == nil || s.cfg.Mailgun == nil {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.syncOnce(ctx)
		t.Reset(s.cfg.SyncEvery)
	}
}

// syncOnce runs one pass if no other process holds the lease, renewing it
// while the pass runs, and keeps it until the next pass is due so that
// processes do not sync one after another.
func (s *Server) syncOnce(ctx context.Context) {
	st := s.cfg.Store
	lease := func(d time.Duration) bool {
		now := s.now()
		ok, err := st.AcquireLease(ctx, syncLease, s.holder, now.UnixMicro(), now.Add(d).UnixMicro())
		if err != nil {
			s.cfg.Log.Error("sync lease", "error", err)
		}
		return ok && err == nil
	}
	const hold = 2 * time.Minute
	if !lease(hold) {
		return
	}
	pctx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(hold / 4)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				if !lease(hold) {
					cancel() // another process took it: stop rather than sync twice
					return
				}
			}
		}
	}()
	state := SyncState{Started: s.now().UTC(), By: s.holder}
	var sum string
	w, err := s.cfg.NewWriter(pctx)
	if err == nil {
		var res *syncer.Summary
		res, err = syncer.Run(pctx, s.cfg.Store, w, s.cfg.Mailgun, *s.cfg.Sync, nil)
		w.Close()
		sum = summaryLine(res)
	}
	cancel()
	<-renewed
	state.Finished, state.OK, state.Summary = s.now().UTC(), err == nil, sum
	if err != nil {
		state.Error = ingest.RedactKey(err.Error(), s.cfg.APIKey)
		s.cfg.Log.Warn("sync pass failed", "error", state.Error)
	} else {
		s.cfg.Log.Info("sync pass", "summary", sum)
	}
	note, _ := json.Marshal(state)
	wctx := context.WithoutCancel(ctx)
	if lease(s.cfg.SyncEvery) {
		if err := st.SetLeaseNote(wctx, syncLease, s.holder, string(note)); err != nil {
			s.cfg.Log.Error("sync note", "error", err)
		}
	}
	if ctx.Err() != nil {
		st.ReleaseLease(wctx, syncLease, s.holder)
	}
}

// syncState reads the last pass, nil before the first.
func (s *Server) syncState(ctx context.Context) (*SyncState, error) {
	l, err := s.cfg.Store.Lease(ctx, syncLease)
	if err != nil || l == nil || l.Note == "" {
		return nil, err
	}
	var st SyncState
	if err := json.Unmarshal([]byte(l.Note), &st); err != nil {
		return nil, nil
	}
	return &st, nil
}

// summaryLine sums a pass up in one line.
func summaryLine(res *syncer.Summary) string {
	if res == nil {
		return ""
	}
	read, stored, failed := 0, 0, 0
	for _, d := range res.Domains {
		read += d.EventsRead
		stored += d.EventsNew
		if d.Err != nil {
			failed++
		}
	}
	line := fmt.Sprintf("%d domain(s) from the %s API: %d events read, %d new", len(res.Domains), res.Source, read, stored)
	if failed > 0 {
		line += fmt.Sprintf(", %d domain(s) failed", failed)
	}
	if len(res.Warnings) > 0 {
		line += fmt.Sprintf(", %d warning(s)", len(res.Warnings))
	}
	return line
}
