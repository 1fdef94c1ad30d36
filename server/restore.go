package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/remedy"
)

// RestoreRequest is the body of POST /api/v1/suppressions/restore: the
// backups a removal wrote, to put back on their lists, as maildiag
// suppressions restore does.
type RestoreRequest struct {
	// Backups are backup files of this server's removals: their names, or
	// the paths the remove answer and the audit give.
	Backups []string `json:"backups"`
	Yes     bool     `json:"yes,omitempty"` // restore for real; default a dry run
}

// RestoreAnswer is what POST /api/v1/suppressions/restore answers: the
// CLI's result, and whether it was a dry run.
type RestoreAnswer struct {
	DryRun bool `json:"dry_run"`
	*remedy.RestoreResult
}

// maxRestoreFiles bounds the backups of one request.
const maxRestoreFiles = 50

// restore reads the backups, checks the user may restore their lists
// (the roles of removing them), and restores them (with Yes) or shows
// what it would: every entry is audited under the user. code is the
// HTTP status of a refusal.
func (s *Server) restore(ctx context.Context, req *RestoreRequest, u *who, door string) (*RestoreAnswer, int, error) {
	if len(req.Backups) == 0 {
		return nil, 0, badf("backups is required: the backup files a removal wrote")
	}
	if len(req.Backups) > maxRestoreFiles {
		return nil, 0, badf("at most %d backups at once", maxRestoreFiles)
	}
	// Read every file before changing anything: a bad one stops it all.
	var files []*remedy.RestoreFile
	var names []string
	for _, name := range req.Backups {
		path, err := s.backupPath(name)
		if err != nil {
			return nil, 0, err
		}
		f, err := remedy.ReadBackup(ctx, path, "", func() (io.ReadCloser, error) { return os.Open(path) })
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, http.StatusNotFound, fmt.Errorf("no backup %s", filepath.Base(path))
		case err != nil:
			return nil, 0, badf("%v", err)
		}
		if !allowed(u.user.Role, permFor([]string{f.List})) {
			return nil, http.StatusForbidden, fmt.Errorf("role %s may not restore %s: complaints and unsubscribes need a lead", u.user.Role, f.List)
		}
		files = append(files, f)
		names = append(names, filepath.Base(path))
	}
	if req.Yes && s.cfg.Mailgun == nil {
		return nil, http.StatusServiceUnavailable, errors.New("actions are off: the server has no Mailgun API key (MG_API_KEY)")
	}
	wr, err := s.cfg.NewWriter(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer wr.Close()
	sess := s.session(wr, u.user.Name, door+" "+strings.Join(names, " "))
	ans := &RestoreAnswer{DryRun: !req.Yes}
	if !req.Yes {
		ans.RestoreResult, err = sess.DryRunRestore(ctx, files)
	} else {
		ans.RestoreResult, err = sess.Restore(ctx, files)
	}
	if err != nil {
		return nil, 0, err
	}
	for _, f := range ans.Files {
		f.Error = s.redact(f.Error)
	}
	return ans, 0, nil
}

// backupPath is where a backup named in a request is: a file of the
// server's backup directory, by its name or its full path there; any
// other path is refused, so a request reads no other file.
func (s *Server) backupPath(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", badf("a backup's name is empty")
	}
	dir := filepath.Clean(s.cfg.BackupDir)
	p := filepath.Clean(name)
	if filepath.Base(p) != p {
		if filepath.Dir(p) != dir {
			return "", badf("backup %q: not in the server's backup directory", name)
		}
	} else {
		p = filepath.Join(dir, p)
	}
	if strings.HasPrefix(filepath.Base(p), ".") {
		return "", badf("backup %q: not a backup", name)
	}
	return p, nil
}

// formRestore runs the restore a page's form asks for: a dry run unless
// "yes" is ticked. fail is an error of the server's own, for pageFail;
// otherwise code is the page's status and msg its error, if any.
func (s *Server) formRestore(r *http.Request, u *who) (ans *RestoreAnswer, code int, msg string, fail error) {
	req := &RestoreRequest{Backups: []string{r.PostFormValue("backup")}, Yes: r.PostFormValue("yes") == "true"}
	ans, code, err := s.restore(r.Context(), req, u, "POST "+r.URL.Path)
	switch {
	case err == nil:
		return ans, http.StatusOK, "", nil
	case code == 0 && !isBad(err):
		return nil, 0, "", err
	case code == 0:
		code = http.StatusBadRequest
	}
	return ans, code, err.Error(), nil
}

// setOutcome puts a form restore's error, or its notice, on the page.
func (p *pageData) setOutcome(ans *RestoreAnswer, msg string) {
	if msg != "" {
		p.Error = msg
	} else {
		p.Notice = restoreNotice(ans)
	}
}

// domainRestore is the restore button of a removal's backup on the
// customer-domain page.
func (s *Server) domainRestore(w http.ResponseWriter, r *http.Request, u *who) {
	pat := r.PathValue("pattern")
	ans, code, msg, fail := s.formRestore(r, u)
	if fail != nil {
		s.pageFail(w, r, u, fail)
		return
	}
	d := &domainData{Pattern: pat, Restore: ans}
	p := u.page("Suppressed at "+pat, d)
	p.setOutcome(ans, msg)
	if res, err := s.suppressed(r.Context(), pat, r); err == nil {
		d.Res = res
	}
	s.render(w, code, "domain", p)
}

// removalBackup is a backup of a removal the audit records, for the audit
// page's restore buttons.
type removalBackup struct {
	File          string // as audited: the path the removal wrote
	AtUS          int64  // the newest removal from it
	User          string
	List          string
	SendingDomain string
	Removed       int
}

// maxBackupsShown bounds the audit page's restore buttons.
const maxBackupsShown = 20

// removalBackups are the backups of the removals among es (newest first),
// newest first.
func removalBackups(es []maildiag.AuditEntry) []removalBackup {
	var out []removalBackup
	at := map[string]int{}
	for _, e := range es {
		if e.Action != maildiag.AuditRemove || e.Result != maildiag.AuditRemoved || e.BackupFile == "" {
			continue
		}
		i, ok := at[e.BackupFile]
		if !ok {
			if len(out) == maxBackupsShown {
				continue
			}
			i = len(out)
			at[e.BackupFile] = i
			out = append(out, removalBackup{File: e.BackupFile, AtUS: e.AtUS, User: e.User, List: e.List, SendingDomain: e.SendingDomain})
		}
		out[i].Removed++
	}
	return out
}

// auditRestore is the restore button of a removal's backup on the audit
// page; the page then shows the restore's own audit entries.
func (s *Server) auditRestore(w http.ResponseWriter, r *http.Request, u *who) {
	ans, code, msg, fail := s.formRestore(r, u)
	if fail != nil {
		s.pageFail(w, r, u, fail)
		return
	}
	p, err := s.auditData(r.Context(), u)
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	p.setOutcome(ans, msg)
	s.render(w, code, "audit", p)
}

// restoreNotice says what a restore did.
func restoreNotice(ans *RestoreAnswer) string {
	restored, failed := 0, 0
	for _, f := range ans.Files {
		restored += f.Restored
		failed += f.Failed
	}
	if ans.DryRun {
		return fmt.Sprintf("Dry run: nothing was changed; %d entries would be put back on their lists.", len(ans.Entries))
	}
	return fmt.Sprintf("Restored %d, failed %d.", restored, failed)
}
