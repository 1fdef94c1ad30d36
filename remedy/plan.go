package remedy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// Removal is one list entry a removal acts on, with what the index knows
// of it (what the backup keeps) and what became of it.
type Removal struct {
	Address       string    `json:"address"`
	List          string    `json:"list"`
	SendingDomain string    `json:"sending_domain"`
	Since         time.Time `json:"since,omitzero"`
	ListCode      string    `json:"list_code,omitempty"`
	ListError     string    `json:"list_error,omitempty"`
	Tags          []string  `json:"tags,omitempty"`
	Class         string    `json:"class,omitempty"`
	Cause         string    `json:"cause,omitempty"` // the failure that put it there, in one line
	State         string    `json:"state"`
	Source        string    `json:"source"`
	Backup        string    `json:"backup,omitempty"`
	Result        string    `json:"result"`
	Error         string    `json:"error,omitempty"`
}

// RemoveFilter narrows what analyze.Suppressed found.
type RemoveFilter struct {
	Lists          []string  `json:"lists"`
	SendingDomains []string  `json:"sending_domains,omitempty"`
	Classes        []string  `json:"classes,omitempty"`
	After          time.Time `json:"after,omitzero"`  // entries created at or after
	Before         time.Time `json:"before,omitzero"` // entries created before
	// IncludeUnknownUsers takes bounces whose mailbox does not exist
	// (user-unknown, mailbox-disabled): removed, they bounce again. They
	// are left out unless this is set or Classes names their class.
	IncludeUnknownUsers bool `json:"include_unknown_users,omitempty"`
}

// unknownUser tells whether a bounce's class says its mailbox does not
// exist.
func unknownUser(class string) bool {
	return class == maildiag.ClassUserUnknown || class == maildiag.ClassMailboxDisabled
}

// DefaultMax is the most entries one removal takes unless raised: a
// pattern as wide as '*' would remove every bounce of the account.
const DefaultMax = 100

// RemovableLists are the lists a removal may touch; the allowlist is not
// a suppression.
var RemovableLists = []string{maildiag.ListBounces, maildiag.ListUnsubscribes, maildiag.ListComplaints}

// DefaultLists are the lists removed from unless others are named:
// unsubscribes and complaints only when named, as both are the person's
// own choice.
var DefaultLists = []string{maildiag.ListBounces}

// RemoveResult is a removal: the entries chosen and what became of them,
// the --output json contract of maildiag suppressions remove.
type RemoveResult struct {
	Pattern string       `json:"pattern"`
	DryRun  bool         `json:"dry_run"`
	Filters RemoveFilter `json:"filters"`
	Matched int          `json:"matched"`
	Skipped int          `json:"skipped_already_removed"`
	// UnknownUsers is how many bounces of mailboxes that do not exist
	// were left out (RemoveFilter.IncludeUnknownUsers).
	UnknownUsers int       `json:"skipped_unknown_users"`
	BackupDir    string    `json:"backup_dir"`
	Backups      []Backup  `json:"backups"`
	Removed      int       `json:"removed"`
	NotFound     int       `json:"not_found"`
	Failed       int       `json:"failed"`
	NotTried     int       `json:"not_attempted"`
	Entries      []Removal `json:"entries"`
}

// PlanRemoval chooses from a diagnosis (analyze.Suppressed, asked for the
// filter's lists and sending domains) the entries the filter takes that
// are still listed, or probably listed. Entries known only from the event
// log that the audit shows maildiag removed since are left out and
// counted as skipped. The backups go to dir. Nothing is done yet: see
// Session.DryRun and Session.Remove.
func PlanRemoval(ctx context.Context, log AuditLog, diag *analyze.SuppressedResult, f RemoveFilter, dir string) (*RemoveResult, error) {
	if len(f.Lists) == 0 {
		f.Lists = DefaultLists
	}
	for _, l := range f.Lists {
		if !slices.Contains(RemovableLists, l) {
			return nil, fmt.Errorf("plan removal: %s is not a list maildiag removes from", l)
		}
	}
	done, err := log.Audit(ctx, maildiag.AuditFilter{Actions: []string{maildiag.AuditRemove}, Results: []string{maildiag.AuditRemoved, maildiag.AuditNotFound}})
	if err != nil {
		return nil, err
	}
	res := &RemoveResult{Pattern: diag.Pattern, DryRun: true, Filters: f, BackupDir: dir, Backups: []Backup{}, Entries: []Removal{}}
	entries, skipped, unknown := selectRemovals(diag, f, removedByUs(done))
	res.Matched, res.Skipped, res.UnknownUsers = len(entries), skipped, unknown
	if entries != nil {
		res.Entries = entries
	}
	return res, nil
}

// entryKey names one list entry.
type entryKey struct{ address, sendingDomain, list string }

// selectRemovals picks, from a diagnosis, the entries still listed (or
// probably listed) that the filter takes. gone holds, for entries known
// only from the event log, when maildiag last removed them: the event log
// keeps showing them after that, and they are skipped.
func selectRemovals(res *analyze.SuppressedResult, f RemoveFilter, gone map[entryKey]int64) (out []Removal, skipped, unknown int) {
	at := map[entryKey]int{} // an entry imported and synced under two creation times is deleted once
	for _, a := range res.Addresses {
		if !slices.Contains(f.Lists, a.List) || strings.HasPrefix(a.Address, "*@") {
			continue
		}
		if a.State != analyze.StateListed && a.State != analyze.StateProbablyListed {
			continue
		}
		class := ""
		if a.Cause != nil {
			class = a.Cause.Class
		}
		if len(f.Classes) > 0 && !slices.Contains(f.Classes, class) {
			continue
		}
		if !f.After.IsZero() && a.Since.Before(f.After) || !f.Before.IsZero() && !a.Since.Before(f.Before) {
			continue
		}
		if at, ok := gone[entryKey{a.Address, a.SendingDomain, a.List}]; ok && a.Source == analyze.FromEvents && at >= a.Since.UnixMicro() {
			skipped++
			continue
		}
		if a.List == maildiag.ListBounces && unknownUser(class) && !f.IncludeUnknownUsers && !slices.Contains(f.Classes, class) {
			unknown++
			continue
		}
		r := Removal{Address: a.Address, List: a.List, SendingDomain: a.SendingDomain, Since: a.Since, ListCode: a.ListCode,
			ListError: a.ListError, Tags: a.Tags, Class: class, State: a.State, Source: a.Source}
		if c := a.Cause; c != nil {
			r.Cause = causeLine(c)
			// What a bounce entry made from the event log says.
			if r.List == maildiag.ListBounces && r.ListCode == "" && c.Code != 0 {
				r.ListCode = fmt.Sprint(c.Code)
			}
			if r.List == maildiag.ListBounces && r.ListError == "" {
				r.ListError = c.Reply
			}
		}
		k := entryKey{r.Address, r.SendingDomain, r.List}
		if i, ok := at[k]; ok {
			if r.Since.After(out[i].Since) {
				out[i] = r
			}
			continue
		}
		at[k] = len(out)
		out = append(out, r)
	}
	return out, skipped, unknown
}

// OverMaxError is a removal larger than its cap.
type OverMaxError struct{ Entries, Max int }

func (e *OverMaxError) Error() string {
	return fmt.Sprintf("%d suppressions match, more than the %d one removal takes: narrow the pattern or the filters, or raise --max", e.Entries, e.Max)
}

// CheckMax refuses a removal of more than max entries (DefaultMax when 0).
func (r *RemoveResult) CheckMax(max int) error {
	if max <= 0 {
		max = DefaultMax
	}
	if len(r.Entries) > max {
		return &OverMaxError{Entries: len(r.Entries), Max: max}
	}
	return nil
}

// removedByUs reads from the audit when maildiag removed each entry last.
func removedByUs(entries []maildiag.AuditEntry) map[entryKey]int64 {
	m := map[entryKey]int64{}
	for _, e := range entries {
		k := entryKey{e.Address, e.SendingDomain, e.List}
		m[k] = max(m[k], e.AtUS)
	}
	return m
}

// causeLine is a failure in one line: code, enhanced code, the reply.
func causeLine(c *analyze.Cause) string {
	var parts []string
	if c.Code != 0 {
		parts = append(parts, fmt.Sprint(c.Code))
	}
	reply, _, _ := strings.Cut(strings.TrimSpace(c.Reply), "\n")
	if c.Enhanced != "" && !strings.HasPrefix(reply, c.Enhanced) {
		parts = append(parts, c.Enhanced)
	}
	if r := []rune(reply); len(r) > 160 {
		reply = string(r[:159]) + "…"
	}
	if reply != "" {
		parts = append(parts, reply)
	}
	return strings.Join(parts, " ")
}
