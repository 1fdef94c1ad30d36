package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

// restoreOptions are the flags of maildiag suppressions restore.
type restoreOptions struct {
	files         []string
	sendingDomain string
	api           apiOptions
}

func newSuppressionsRestoreCmd(s *streams, g *globals) *cobra.Command {
	o := &restoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore BACKUP.csv...",
		Short: "Put suppressions back from a backup written by suppressions remove",
		Long: `Restore is the undo of maildiag suppressions remove: it adds the entries of each
backup file back to the Mailgun list they came from, with their code, error,
tags and creation time, through the API (batches of up to 1000), and marks them
listed again in the index. It acts at once and prints what it did. Running it
again changes nothing more: Mailgun replaces an entry it already has.

The sending domain and list come from the file name remove gives a backup
(mg.example.com_bounces_20261120T091500Z.csv); for another CSV in Mailgun's
import format, name the sending domain with --sending-domain.

Output (--output json): {"files": [{"file", "sending_domain", "list",
"entries", "restored", "failed", "error"}], "entries": [{"file", "address",
"list", "sending_domain", "created_at", "result", "error"}]}.

Exit status: 0 when every entry was restored, 2 on usage errors or a file
that is not a suppression backup, 3 when any batch failed (run it again).`,
		Example: `  maildiag suppressions restore ~/.local/share/maildiag/backups/mg.example.com_bounces_20261120T091500Z.csv
  maildiag suppressions restore --sending-domain mg.example.com bounces-export.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			o.files = args
			o.sendingDomain = strings.ToLower(strings.TrimSpace(o.sendingDomain))
			if err := o.api.resolve(); err != nil {
				return err
			}
			path, err := g.dbPath()
			if err != nil {
				return failure(err)
			}
			au := newAuditor(cmd, args, g.now)
			au.secret = o.api.apiKey
			return redactKey(restoreRun(cmd.Context(), s, path, format, o, au), o.api.apiKey)
		},
	}
	cmd.Flags().StringVar(&o.sendingDomain, "sending-domain", "", "sending domain of files whose name does not say it")
	o.api.addFlags(cmd.Flags(), "retries of a request after 5xx answers, timeouts or dropped connections")
	return cmd
}

// restoreFile is one backup read.
type restoreFile struct {
	File          string `json:"file"`
	SendingDomain string `json:"sending_domain"`
	List          string `json:"list"`
	Entries       int    `json:"entries"`
	Restored      int    `json:"restored"`
	Failed        int    `json:"failed"`
	Error         string `json:"error,omitempty"`

	supps []maildiag.Suppression
}

// restoredEntry is one entry and what became of it.
type restoredEntry struct {
	File          string    `json:"file"`
	Address       string    `json:"address"`
	List          string    `json:"list"`
	SendingDomain string    `json:"sending_domain"`
	CreatedAt     time.Time `json:"created_at,omitzero"`
	Result        string    `json:"result"`
	Error         string    `json:"error,omitempty"`
}

// restoreResult is the --output json contract of restore.
type restoreResult struct {
	Files   []*restoreFile  `json:"files"`
	Entries []restoredEntry `json:"entries"`
}

// restoreBatch is the most entries Mailgun takes in one request.
const restoreBatch = 1000

func restoreRun(ctx context.Context, s *streams, path, format string, o *restoreOptions, au *auditor) error {
	res := &restoreResult{Entries: []restoredEntry{}}
	// Read every file before changing anything: a bad one stops it all.
	for _, name := range o.files {
		f, err := readBackup(ctx, name, o.sendingDomain)
		if err != nil {
			return err
		}
		res.Files = append(res.Files, f)
	}
	db, err := index.Open(ctx, path)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	w, err := db.NewWriter(ctx)
	if err != nil {
		return failure(err)
	}
	defer w.Close()
	client, err := o.api.client(0)
	if err != nil {
		return err
	}
	rctx := context.WithoutCancel(ctx) // what Mailgun took is recorded even when interrupted
	failed := 0
	for _, f := range res.Files {
		for start := 0; start < len(f.supps); start += restoreBatch {
			if ctx.Err() != nil {
				break
			}
			batch := f.supps[start:min(start+restoreBatch, len(f.supps))]
			result, reason := maildiag.AuditRestored, ""
			if err := addToList(ctx, client, f.SendingDomain, f.List, batch); err != nil {
				result, reason = maildiag.AuditFailed, redactText(apiErrorText(err), o.api.apiKey)
				f.Failed += len(batch)
				f.Error = reason
				failed += len(batch)
			} else {
				f.Restored += len(batch)
				if _, err := w.AddSuppressions(rctx, batch, 0, au.now().UnixMicro()); err != nil {
					return failure(err)
				}
			}
			for _, sp := range batch {
				e := au.entry(maildiag.AuditRestore, result)
				e.Address, e.List, e.SendingDomain, e.BackupFile, e.Error = sp.Address, f.List, f.SendingDomain, f.File, reason
				if err := au.record(rctx, w, e); err != nil {
					return failure(err)
				}
				res.Entries = append(res.Entries, restoredEntry{File: f.File, Address: sp.Address, List: f.List,
					SendingDomain: f.SendingDomain, CreatedAt: usTimeOrZero(sp.CreatedUS), Result: result, Error: reason})
			}
			if err := w.Commit(rctx); err != nil {
				return failure(err)
			}
		}
	}
	t := &table{title: "Restored suppressions", columns: []string{"address", "list", "sending_domain", "created_at", "result", "error"}}
	for _, e := range res.Entries {
		t.add(e.Address, e.List, e.SendingDomain, e.CreatedAt, e.Result, e.Error)
	}
	if err := render(s.out, format, res, t); err != nil {
		return failure(err)
	}
	restored := 0
	for _, f := range res.Files {
		restored += f.Restored
		fmt.Fprintf(s.err, "%s: %d of %d %s entries of %s restored\n", f.File, f.Restored, f.Entries, f.List, f.SendingDomain)
	}
	switch {
	case ctx.Err() != nil:
		return failure(fmt.Errorf("interrupted after restoring %d entries; run the same command again to finish", restored))
	case failed > 0:
		return failure(fmt.Errorf("%d entries were not restored; run the same command again to finish", failed))
	}
	return nil
}

// readBackup reads a backup (any suppression CSV in Mailgun's import
// format) with the reader maildiag import uses.
func readBackup(ctx context.Context, name, sendingDomain string) (*restoreFile, error) {
	sd, list, named := parseBackupName(name)
	switch {
	case sendingDomain != "" && named && sendingDomain != sd:
		return nil, usageErrorf("%s: the file name says sending domain %s, --sending-domain says %s", name, sd, sendingDomain)
	case sendingDomain != "":
		sd = sendingDomain
	case !named:
		return nil, usageErrorf("%s: the file name does not say its sending domain: pass --sending-domain", name)
	}
	in, err := os.Open(name)
	if err != nil {
		return nil, usageErrorf("%s: %v", name, unwrapPathError(err))
	}
	defer in.Close()
	f := &restoreFile{File: name, SendingDomain: sd}
	var problems []string
	events := 0
	_, err = ingest.Read(ctx, in, ingest.Options{SendingDomain: sd, Workers: 1}, func(b *ingest.Batch) error {
		events += len(b.Events)
		for _, rj := range b.Rejects {
			problems = append(problems, fmt.Sprintf("%s: %s", where(name, rj.Line, rj.Item), rj.Reason))
		}
		f.supps = append(f.supps, b.Suppressions...)
		return nil
	})
	switch {
	case err != nil:
		return nil, usageErrorf("%s: %v", name, err)
	case events > 0:
		return nil, usageErrorf("%s: holds events, not a suppression list backup", name)
	case len(problems) > 0:
		return nil, usageErrorf("%s: %d bad records, nothing restored:\n  %s", name, len(problems), strings.Join(problems, "\n  "))
	case len(f.supps) == 0:
		return nil, usageErrorf("%s: no suppression entries in it", name)
	}
	f.List = f.supps[0].List
	for _, sp := range f.supps {
		if sp.List != f.List || sp.List == maildiag.ListAllowlist {
			return nil, usageErrorf("%s: not one bounces, unsubscribes or complaints list", name)
		}
	}
	if named && list != f.List {
		return nil, usageErrorf("%s: the file name says %s, its columns are those of %s", name, list, f.List)
	}
	f.Entries = len(f.supps)
	return f, nil
}

// addToList adds entries to a list in one request. Complaints go by a
// plain POST: mailgun-go's CreateComplaints sends no created_at, and a
// restore must keep it.
func addToList(ctx context.Context, client *ingest.Client, sd, list string, ss []maildiag.Suppression) error {
	mg := client.Mailgun(sd)
	switch list {
	case maildiag.ListBounces:
		bs := make([]mailgun.Bounce, len(ss))
		for i, sp := range ss {
			bs[i] = mailgun.Bounce{Address: sp.Address, Code: sp.Code, Error: sp.Error, CreatedAt: mailgun.RFC2822Time(createdOrNow(sp.CreatedUS))}
		}
		return mg.AddBounces(ctx, bs)
	case maildiag.ListUnsubscribes:
		us := make([]mailgun.Unsubscribe, len(ss))
		for i, sp := range ss {
			tags := sp.Tags
			if len(tags) == 0 {
				tags = []string{"*"}
			}
			us[i] = mailgun.Unsubscribe{Address: sp.Address, Tags: tags, CreatedAt: mailgun.RFC2822Time(createdOrNow(sp.CreatedUS))}
		}
		return mg.CreateUnsubscribes(ctx, us)
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

// apiErrorText is the short form of an API error: Mailgun's answer when
// there is one.
func apiErrorText(err error) string {
	if ae, ok := ingest.AsAPIError(err); ok {
		return ae.Error()
	}
	return err.Error()
}

// createdOrNow is an entry's creation time; an unknown one is now, as
// Mailgun would make it.
func createdOrNow(us int64) time.Time {
	if us == 0 {
		return time.Now().UTC().Truncate(time.Second)
	}
	return time.UnixMicro(us).UTC()
}

func usTimeOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
