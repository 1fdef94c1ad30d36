package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
)

// auditor writes the audit entries of one invocation of a command: who ran
// it, the command line, one run id for all its rows.
type auditor struct {
	run     string
	user    string
	command string
	now     func() time.Time
	secret  string // the API key, kept out of every entry
}

// newAuditor describes the invocation of cmd with args.
func newAuditor(cmd *cobra.Command, args []string, now func() time.Time) *auditor {
	var b [8]byte
	rand.Read(b[:])
	return &auditor{run: hex.EncodeToString(b[:]), user: osUser(), command: commandLine(cmd, args), now: now}
}

// entry starts an audit entry stamped with the invocation.
func (a *auditor) entry(action, result string) *maildiag.AuditEntry {
	return &maildiag.AuditEntry{AtUS: a.now().UnixMicro(), Run: a.run, User: a.user, Action: action, Command: a.command, Result: result}
}

// record writes e in w's open transaction, with the API key taken out of
// any text that might carry it (an error message quoting a request).
func (a *auditor) record(ctx context.Context, w *index.Writer, e *maildiag.AuditEntry) error {
	for _, s := range []*string{&e.Command, &e.Pattern, &e.Filters, &e.Address, &e.BackupFile, &e.Error, &e.Detail, &e.ApprovedBy} {
		*s = redactText(*s, a.secret)
	}
	return w.AddAudit(ctx, e)
}

// osUser is the user running maildiag, as the OS knows it.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "uid " + strconv.Itoa(os.Getuid())
}

// commandLine rebuilds the command as typed, for the audit: its path, its
// arguments and the flags that were set, never --api-key.
func commandLine(cmd *cobra.Command, args []string) string {
	parts := []string{cmd.CommandPath()}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "api-key" {
			return
		}
		if f.Value.Type() == "bool" {
			if f.Value.String() == "true" {
				parts = append(parts, "--"+f.Name)
			} else {
				parts = append(parts, "--"+f.Name+"="+f.Value.String())
			}
			return
		}
		vals := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		for _, v := range vals {
			parts = append(parts, "--"+f.Name, shellQuote(v))
		}
	})
	return strings.Join(parts, " ")
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
