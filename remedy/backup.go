package remedy

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// listTimeLayout is how Mailgun writes created_at in suppression lists and
// their CSV exports: Thu, 11 Dec 2025 01:49:40 UTC.
const listTimeLayout = "Mon, 02 Jan 2006 15:04:05 UTC"

// backupStamp is the time in a backup's file name.
const backupStamp = "20060102T150405Z"

// backupHeaders are Mailgun's CSV import formats, which maildiag import
// reads too.
var backupHeaders = map[string][]string{
	maildiag.ListBounces:      {"address", "code", "error", "created_at"},
	maildiag.ListUnsubscribes: {"address", "tags", "created_at"},
	maildiag.ListComplaints:   {"address", "created_at"},
}

// Backup is one written backup: the entries of one list of one sending
// domain.
type Backup struct {
	File          string `json:"file"`
	SendingDomain string `json:"sending_domain"`
	List          string `json:"list"`
	Entries       int    `json:"entries"`
}

// backupName names the backup of a list: sending domain, list and time,
// e.g. mg.example.com_bounces_20261120T091500Z.csv.
func backupName(sendingDomain, list string, at time.Time) string {
	return sendingDomain + "_" + list + "_" + at.UTC().Format(backupStamp) + ".csv"
}

var backupNameRE = regexp.MustCompile(`^(.+)_(bounces|unsubscribes|complaints)_(\d{8}T\d{6}Z)(?:-\d+)?\.csv$`)

// parseBackupName reads the sending domain and list out of a backup's file
// name; ok is false for a name backupName did not make.
func parseBackupName(path string) (sendingDomain, list string, ok bool) {
	m := backupNameRE.FindStringSubmatch(filepath.Base(path))
	if m == nil || !strings.Contains(m[1], ".") || strings.ContainsAny(m[1], "_/ ") {
		return "", "", false
	}
	if _, err := time.Parse(backupStamp, m[3]); err != nil {
		return "", "", false
	}
	return strings.ToLower(m[1]), m[2], true
}

// backupCSV renders entries of one list in Mailgun's import format.
func backupCSV(list string, entries []*Removal) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(backupHeaders[list])
	for _, r := range entries {
		created := ""
		if !r.Since.IsZero() {
			created = r.Since.UTC().Format(listTimeLayout)
		}
		switch list {
		case maildiag.ListBounces:
			cw.Write([]string{r.Address, r.ListCode, r.ListError, created})
		case maildiag.ListUnsubscribes:
			tags := r.Tags
			if len(tags) == 0 {
				tags = []string{"*"} // unknown: all, as Mailgun lists an unsubscribe from everything
			}
			cw.Write([]string{r.Address, strings.Join(tags, ","), created})
		default:
			cw.Write([]string{r.Address, created})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, fmt.Errorf("write backup: %w", err)
	}
	return buf.Bytes(), nil
}

// Backup writes, before anything is deleted, one backup per list of each
// sending domain of the removal into its BackupDir (mode 0600 files, never
// replacing an earlier backup), and notes in each entry where it is. When
// a backup cannot be written, the removal stops there: every entry is
// audited as refused, with why, and the error says nothing was removed.
func (s *Session) Backup(ctx context.Context, res *RemoveResult) error {
	var err error
	res.Backups, err = writeBackups(res.BackupDir, res.Entries, s.now())
	if err == nil {
		return nil
	}
	err = fmt.Errorf("no suppression was removed: %w", err)
	res.DryRun = false
	base := s.removeEntry(res)
	for i := range res.Entries {
		r := &res.Entries[i]
		r.Result, r.Error = maildiag.AuditRefused, err.Error()
		e := *base
		e.Address, e.List, e.SendingDomain, e.Result, e.Error = r.Address, r.List, r.SendingDomain, r.Result, r.Error
		if aerr := s.record(ctx, &e); aerr != nil {
			return errors.Join(err, aerr)
		}
	}
	if cerr := s.W.Commit(ctx); cerr != nil {
		return errors.Join(err, cerr)
	}
	return err
}

// writeBackups writes the backups of entries into dir.
func writeBackups(dir string, entries []Removal, at time.Time) ([]Backup, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create backup directory: %w", err)
	}
	type group struct{ sd, list string }
	var order []group
	byGroup := map[group][]*Removal{}
	for i := range entries {
		g := group{entries[i].SendingDomain, entries[i].List}
		if byGroup[g] == nil {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], &entries[i])
	}
	var out []Backup
	for _, g := range order {
		data, err := backupCSV(g.list, byGroup[g])
		if err != nil {
			return out, err
		}
		path, err := writeNewFile(dir, backupName(g.sd, g.list, at), data)
		if err != nil {
			return out, err
		}
		for _, r := range byGroup[g] {
			r.Backup = path
		}
		out = append(out, Backup{File: path, SendingDomain: g.sd, List: g.list, Entries: len(byGroup[g])})
	}
	return out, nil
}

// writeNewFile writes data atomically to a new file in dir (mode 0600: it
// holds addresses): a temporary file, synced, then linked into place under
// name, or name-2, name-3, ... when taken, so an earlier backup is never
// replaced. It returns the path written.
func writeNewFile(dir, name string, data []byte) (string, error) {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write backup: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	stem := strings.TrimSuffix(name, ".csv")
	for n := 1; n < 1000; n++ {
		path := filepath.Join(dir, name)
		if n > 1 {
			path = filepath.Join(dir, fmt.Sprintf("%s-%d.csv", stem, n))
		}
		// A link, unlike a rename, fails when the name is taken.
		err := os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("write backup: %w", err)
		}
		if d, err := os.Open(dir); err == nil {
			d.Sync() // the new name survives a crash
			d.Close()
		}
		return path, nil
	}
	return "", fmt.Errorf("write backup: %s and 998 numbered names are taken in %s", name, dir)
}
