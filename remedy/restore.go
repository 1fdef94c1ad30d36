package remedy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/mailgun/mailgun-go/v5/mtypes"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
)

// RestoreFile is one backup read, and what became of its entries.
type RestoreFile struct {
	File          string `json:"file"`
	SendingDomain string `json:"sending_domain"`
	List          string `json:"list"`
	Entries       int    `json:"entries"`
	Restored      int    `json:"restored"`
	Failed        int    `json:"failed"`
	Error         string `json:"error,omitempty"`

	supps []maildiag.Suppression
}

// RestoredEntry is one entry and what became of it.
type RestoredEntry struct {
	File          string    `json:"file"`
	Address       string    `json:"address"`
	List          string    `json:"list"`
	SendingDomain string    `json:"sending_domain"`
	CreatedAt     time.Time `json:"created_at,omitzero"`
	Result        string    `json:"result"`
	Error         string    `json:"error,omitempty"`
}

// RestoreResult is a restore: the --output json contract of maildiag
// suppressions restore.
type RestoreResult struct {
	Files   []*RestoreFile  `json:"files"`
	Entries []RestoredEntry `json:"entries"`
}

// restoreBatch is the most entries Mailgun takes in one request.
const restoreBatch = 1000

// ErrNoSendingDomain is returned by ReadBackup for a file whose name does
// not say its sending domain when the caller gives none.
var ErrNoSendingDomain = errors.New("the file name does not say its sending domain")

// DomainMismatchError is a backup whose file name says another sending
// domain than the caller gave.
type DomainMismatchError struct {
	File, Named, Given string
}

// Error names the file and both sending domains.
func (e *DomainMismatchError) Error() string {
	return fmt.Sprintf("%s: the file name says sending domain %s, not %s", e.File, e.Named, e.Given)
}

// ReadBackup reads a backup called name, opened by open, with the reader
// maildiag import uses: one Session.Backup wrote (its name says the
// sending domain and list) or any suppression CSV in Mailgun's import
// format, whose sending domain the caller gives. A file that is not one
// whole bounces, unsubscribes or complaints list is an error: nothing of
// it is to be restored. An error of open comes back as it is.
func ReadBackup(ctx context.Context, name, sendingDomain string, open func() (io.ReadCloser, error)) (*RestoreFile, error) {
	sd, list, named := parseBackupName(name)
	switch {
	case sendingDomain != "" && named && sendingDomain != sd:
		return nil, &DomainMismatchError{File: name, Named: sd, Given: sendingDomain}
	case sendingDomain != "":
		sd = sendingDomain
	case !named:
		return nil, fmt.Errorf("%s: %w", name, ErrNoSendingDomain)
	}
	r, err := open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f := &RestoreFile{File: name, SendingDomain: sd}
	var problems []string
	events := 0
	_, err = ingest.Read(ctx, r, ingest.Options{SendingDomain: sd, Workers: 1}, func(b *ingest.Batch) error {
		events += len(b.Events)
		for _, rj := range b.Rejects {
			problems = append(problems, fmt.Sprintf("%s: %s", rj.Where(name), rj.Reason))
		}
		f.supps = append(f.supps, b.Suppressions...)
		return nil
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", name, err)
	case events > 0:
		return nil, fmt.Errorf("%s: holds events, not a suppression list backup", name)
	case len(problems) > 0:
		return nil, fmt.Errorf("%s: %d bad records, nothing restored:\n  %s", name, len(problems), strings.Join(problems, "\n  "))
	case len(f.supps) == 0:
		return nil, fmt.Errorf("%s: no suppression entries in it", name)
	}
	f.List = f.supps[0].List
	for _, sp := range f.supps {
		if sp.List != f.List || sp.List == maildiag.ListAllowlist {
			return nil, fmt.Errorf("%s: not one bounces, unsubscribes or complaints list", name)
		}
	}
	if named && list != f.List {
		return nil, fmt.Errorf("%s: the file name says %s, its columns are those of %s", name, list, f.List)
	}
	f.Entries = len(f.supps)
	return f, nil
}

// Restore adds the entries of each backup back to the Mailgun list they
// came from, with their code, error, tags and creation time, in batches,
// and marks them listed again in the index; each entry is audited. A
// batch Mailgun refuses is counted as failed and the rest goes on; when
// ctx ends, Restore stops between batches and returns what it did with a
// nil error (see ctx). Restoring again changes nothing more: Mailgun
// replaces an entry it already has. The error is the store's.
func (s *Session) Restore(ctx context.Context, files []*RestoreFile) (*RestoreResult, error) {
	res := &RestoreResult{Files: files, Entries: []RestoredEntry{}}
	rctx := context.WithoutCancel(ctx) // what Mailgun took is recorded even when interrupted
	for _, f := range files {
		for start := 0; start < len(f.supps); start += restoreBatch {
			if ctx.Err() != nil {
				break
			}
			batch := f.supps[start:min(start+restoreBatch, len(f.supps))]
			result, reason := maildiag.AuditRestored, ""
			if err := addToList(ctx, s.Client, f.SendingDomain, f.List, batch); err != nil {
				result, reason = maildiag.AuditFailed, s.redact(apiErrorText(err))
				f.Failed += len(batch)
				f.Error = reason
			} else {
				f.Restored += len(batch)
				if _, err := s.W.AddSuppressions(rctx, batch, 0, s.now().UnixMicro()); err != nil {
					return res, err
				}
			}
			for _, sp := range batch {
				e := s.entry(maildiag.AuditRestore, result)
				e.Address, e.List, e.SendingDomain, e.BackupFile, e.Error = sp.Address, f.List, f.SendingDomain, f.File, reason
				if err := s.record(rctx, e); err != nil {
					return res, err
				}
				res.Entries = append(res.Entries, RestoredEntry{File: f.File, Address: sp.Address, List: f.List,
					SendingDomain: f.SendingDomain, CreatedAt: maildiag.TimeUS(sp.CreatedUS), Result: result, Error: reason})
			}
			if err := s.W.Commit(rctx); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// DryRunRestore shows what Restore would put back, changing nothing at
// Mailgun: each entry is listed and audited as a dry run.
func (s *Session) DryRunRestore(ctx context.Context, files []*RestoreFile) (*RestoreResult, error) {
	res := &RestoreResult{Files: files, Entries: []RestoredEntry{}}
	for _, f := range files {
		for _, sp := range f.supps {
			e := s.entry(maildiag.AuditRestore, maildiag.AuditDryRun)
			e.Address, e.List, e.SendingDomain, e.BackupFile = sp.Address, f.List, f.SendingDomain, f.File
			if err := s.record(ctx, e); err != nil {
				return res, err
			}
			res.Entries = append(res.Entries, RestoredEntry{File: f.File, Address: sp.Address, List: f.List,
				SendingDomain: f.SendingDomain, CreatedAt: maildiag.TimeUS(sp.CreatedUS), Result: maildiag.AuditDryRun})
		}
	}
	return res, s.W.Commit(ctx)
}

// addToList adds entries to a list in one request. Complaints go by a
// plain POST: mailgun-go's CreateComplaints sends no created_at, and a
// restore must keep it.
func addToList(ctx context.Context, client *ingest.Client, sd, list string, ss []maildiag.Suppression) error {
	mg := client.Mailgun()
	switch list {
	case maildiag.ListBounces:
		bs := make([]mtypes.Bounce, len(ss))
		for i, sp := range ss {
			bs[i] = mtypes.Bounce{Address: sp.Address, Code: sp.Code, Error: sp.Error, CreatedAt: mtypes.RFC2822Time(createdOrNow(sp.CreatedUS))}
		}
		return mg.AddBounces(ctx, sd, bs)
	case maildiag.ListUnsubscribes:
		us := make([]mtypes.Unsubscribe, len(ss))
		for i, sp := range ss {
			tags := sp.Tags
			if len(tags) == 0 {
				tags = []string{"*"}
			}
			us[i] = mtypes.Unsubscribe{Address: sp.Address, Tags: tags, CreatedAt: mtypes.RFC2822Time(createdOrNow(sp.CreatedUS))}
		}
		return mg.CreateUnsubscribes(ctx, sd, us)
	case maildiag.ListComplaints:
		return postComplaints(ctx, client, sd, ss)
	}
	return fmt.Errorf("restore: %s is not a list maildiag restores", list)
}

// postComplaints adds complaints with their creation times, as Mailgun's
// import of a complaints list takes them.
func postComplaints(ctx context.Context, client *ingest.Client, sd string, ss []maildiag.Suppression) error {
	type item struct {
		Address   string `json:"address"`
		CreatedAt string `json:"created_at"`
	}
	items := make([]item, len(ss))
	for i, sp := range ss {
		items[i] = item{sp.Address, createdOrNow(sp.CreatedUS).Format(time.RFC1123Z)}
	}
	body, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("add complaints: %w", err)
	}
	u := client.BaseURL() + "/v3/" + url.PathEscape(sd) + "/complaints"
	_, err = client.Post(ctx, u, body, "application/json")
	return err
}

// createdOrNow is an entry's creation time; an unknown one is now, as
// Mailgun would make it.
func createdOrNow(us int64) time.Time {
	if us == 0 {
		return time.Now().UTC().Truncate(time.Second)
	}
	return time.UnixMicro(us).UTC()
}
