package main

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/user"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/maildiag/maildiag/index/pg"

	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/remedy"
)

// newIdentity describes the invocation of cmd with args for the audit:
// the OS user, the command line as typed, a run id for all its entries.
func newIdentity(cmd *cobra.Command, args []string) remedy.Identity {
	var b [8]byte
	rand.Read(b[:])
	return remedy.Identity{Run: hex.EncodeToString(b[:]), User: osUser(), Command: commandLine(cmd, args)}
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
// arguments and the flags that were set, never --api-key nor the password
// of a PostgreSQL URL, nor the flags named in without.
func commandLine(cmd *cobra.Command, args []string, without ...string) string {
	parts := []string{cmd.CommandPath()}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "api-key" || slices.Contains(without, f.Name) {
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
		if f.Name == "api-base" {
			vals = []string{ingest.RedactURL(vals[0])} // http://api:KEY@host
		}
		for i, v := range vals {
			if pg.IsURL(v) {
				vals[i] = pg.Redact(v) // --db, copy's --from and --to: postgres://user:PASSWORD@host
			}
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
