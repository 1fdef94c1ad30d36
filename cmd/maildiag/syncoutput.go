package main

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/syncer"
)

// syncTables renders a pass's summary for table and CSV output.
func syncTables(s *syncer.Summary) []*table {
	ev := &table{title: "Events (" + s.Source + " API)", columns: []string{"domain", "read", "new", "seen_again", "rejects",
		"pages", "requests", "retries", "rate_limited", "fetched_from", "fetched_to", "synced_to", "error"}}
	lists := &table{title: "Suppression lists", columns: []string{"domain", "list", "read", "new", "removed", "complete"}}
	for _, d := range s.Domains {
		var from, to, synced any
		if d.FetchedFrom != nil {
			from, to = *d.FetchedFrom, *d.FetchedTo
		}
		if n := len(d.SyncedRanges); n > 0 {
			synced = d.SyncedRanges[n-1].To
		}
		ev.add(d.Domain, d.EventsRead, d.EventsNew, d.EventsSeenAgain, d.Rejects, d.Pages, d.Requests, d.Retries,
			d.RateLimited, from, to, synced, d.Error)
		for _, l := range d.Suppressions {
			lists.add(d.Domain, l.List, l.Read, l.New, l.Removed, l.Complete)
		}
	}
	if len(lists.rows) == 0 {
		return []*table{ev}
	}
	return []*table{ev, lists}
}

// explain words the error of a pass for the user.
func (o *syncOptions) explain(err error) error {
	var ee *exitError
	var df *syncer.DomainsFailed
	var tl *syncer.PlanTooLarge
	switch {
	case err == nil || errors.As(err, &ee):
		return err
	case errors.As(err, &tl) && tl.Least > 0:
		return usageErrorf("--window %s with --since %s is %d windows, more than the %d a pass plans: use --window %s or more, or a later --since",
			tl.Window, o.since, tl.Windows, syncer.MaxWindows, tl.Least)
	case errors.As(err, &tl):
		return usageErrorf("%v", err)
	case errors.As(err, &df):
		failed := make([]error, len(df.Errs))
		for i, e := range df.Errs {
			failed[i] = explainAPIError(e, o) // names the domain
		}
		return failure(fmt.Errorf("sync failed for %d of %d domains (what was read is committed; run sync again to resume): %w",
			len(failed), df.Total, errors.Join(failed...)))
	}
	return failure(explainAPIError(err, o))
}

// explainAPIError turns an API error into a message the user can act on,
// keeping the error underneath for errors.Is and errors.As.
func explainAPIError(err error, o *syncOptions) error {
	other := "eu"
	if o.region == "eu" && o.apiBase == "" {
		other = "us"
	}
	if errors.Is(err, ingest.ErrNoSuchDomain) {
		return &hintError{fmt.Sprintf("%v (wrong region? try --region %s)", err, other), err}
	}
	ae, ok := ingest.AsAPIError(err)
	switch {
	case !ok:
		return err
	case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
		return &hintError{fmt.Sprintf("%d from %s: bad API key, or the domain is in the other region (try --region %s)", ae.Status, ae.Host, other), err}
	case ae.Status == http.StatusNotFound:
		return &hintError{fmt.Sprintf("%v (is the domain name right, and in this region? try --region %s)", err, other), err}
	}
	return err
}

// hintError is an error with a message written for the user.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }
