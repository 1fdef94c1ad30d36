package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
)

// Exit codes, decided here and nowhere else.
const (
	exitOK      = 0
	exitNo      = 1 // ran, but the answer is no: nothing found, rejects under --strict, an input not loaded
	exitUsage   = 2
	exitFailure = 3 // could not run: index, I/O or API failure
)

// streams are where a command reads and writes; tests pass buffers. err
// shows only printable text (printableWriter), and so does out in table
// form; bars is stderr as it is, for the progress bars' own escapes.
type streams struct {
	in          io.Reader
	out, err    io.Writer
	bars        io.Writer
	errTerminal bool // stderr is a terminal: progress bars are drawn
}

// globals are the flags every command shares.
type globals struct {
	db     string
	output string
	nowAt  string // hidden --now: a fixed clock for tests and reproducible reports

	command string // the command running, as typed (maildiag suppressions remove): for messages
}

// seenAt is when list entries imported now are seen: --now when given,
// else zero (the import's own start).
func (g *globals) seenAt() time.Time {
	if g.nowAt == "" {
		return time.Time{}
	}
	return g.now()
}

// now is the command's clock: --now when given, else the time.
func (g *globals) now() time.Time {
	if g.nowAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, g.nowAt); err == nil {
			return t.UTC()
		}
	}
	return time.Now().UTC()
}

func knownClass(name string) bool {
	_, ok := maildiag.ClassOf(name)
	return ok
}

// exitError carries an exit code with the message printed for it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func failure(err error) error { return &exitError{code: exitFailure, err: err} }

// errNo ends a command that ran with exit code 1 and no further message.
var errNo = &exitError{code: exitNo, err: errors.New("")}

// errFailure ends a command with exit code 3 when its message is printed.
var errFailure = &exitError{code: exitFailure, err: errors.New("")}

// Run executes maildiag with args and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := &streams{in: stdin, out: stdout, err: &printableWriter{w: stderr}, bars: stderr}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		s.errTerminal = true
	}
	g := &globals{}
	root := newRootCmd(s, g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	code := exitFailure
	if errors.As(err, &ee) {
		code = ee.code
	}
	msg := err.Error()
	if code == exitFailure && usesPostgres(args) && ctx.Err() == nil && pg.ConnectionLost(err) && !strings.HasPrefix(msg, "open index ") {
		// The server stopped or restarted under the command (pgx's words
		// for it are "unexpected EOF" or "connection reset by peer").
		msg = "lost the connection to the PostgreSQL server (it stopped or restarted): " +
			strings.Join(strings.Fields(msg), " ") + "; what was committed stays in the index: run the command again"
	}
	if msg != "" {
		fmt.Fprintln(s.err, "maildiag: "+msg)
	}
	if ctx.Err() != nil && code == exitFailure {
		fmt.Fprintln(s.err, "maildiag: interrupted; what was committed stays in the index")
	}
	return code
}

// usesPostgres tells whether a command line (or $MAILDIAG_DB) names a
// PostgreSQL index.
func usesPostgres(args []string) bool {
	if pg.IsURL(os.Getenv(index.EnvDB)) {
		return true
	}
	for _, a := range args {
		if _, v, ok := strings.Cut(a, "="); ok && pg.IsURL(v) || pg.IsURL(a) {
			return true
		}
	}
	return false
}

func newRootCmd(s *streams, g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "maildiag",
		Short: "Mail-delivery diagnostics for Mailgun",
		Long: `maildiag keeps a local SQLite index of Mailgun events and suppression lists
(imported from exported files, or synced from the API) and answers delivery
questions from it: why a person did not get an email, which addresses of a
customer domain are suppressed, what failed and why.`,
		Example: `  maildiag import events.jsonl.gz
  maildiag status
  maildiag suppressed '*@acme.com'
  maildiag trace jane@initech.example
  maildiag failures --code 550 --to '*@gmail.com' --since 30d
  maildiag query "SELECT class, COUNT(*) FROM failures GROUP BY class"`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.db, "db", "", "index: a SQLite file, or postgres://... (default $"+index.EnvDB+", else $XDG_DATA_HOME/maildiag/index.db)")
	root.PersistentFlags().StringVar(&g.output, "output", "table", "output format: table, json or csv")
	root.PersistentFlags().StringVar(&g.nowAt, "now", "", "the current time, RFC 3339 (for reproducible output)")
	root.PersistentFlags().MarkHidden("now")
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		g.command = c.CommandPath()
		if err := g.checkFormat(c.Name()); err != nil {
			return err
		}
		if g.output == "table" {
			s.out = &printableWriter{w: s.out}
		}
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(
		newImportCmd(s, g),
		newStatusCmd(s, g),
		newQueryCmd(s, g),
		newSuppressedCmd(s, g),
		newTraceCmd(s, g),
		newFailuresCmd(s, g),
		newEventsCmd(s, g),
		newShowCmd(s, g),
		newSyncCmd(s, g),
		newReportCmd(s, g),
		newReclassifyCmd(s, g),
		newSuppressionsCmd(s, g),
		newResendCmd(s, g),
		newAuditCmd(s, g),
		newMigrateCmd(s, g),
		newServeCmd(s, g),
		newUsersCmd(s, g),
		newTokensCmd(s, g),
		newRetentionCmd(s, g),
		newCopyCmd(s, g),
	)
	root.InitDefaultCompletionCmd()
	usageErrors(root)
	return root
}

// usageErrors makes every error cobra finds in a command line's arguments a
// usage error, as flag errors are (SetFlagErrorFunc): each command's own
// argument check is wrapped, and a command that only groups others runs to
// print its help, or to refuse an unknown subcommand.
func usageErrors(c *cobra.Command) {
	if c.HasSubCommands() {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for %q (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	} else if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageErrorf("%v (see %s --help)", err, cmd.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageErrors(sub)
	}
}

// checkFormat validates --output, before any command runs; events also
// writes JSON lines.
func (g *globals) checkFormat(command string) error {
	switch g.output {
	case "table", "json", "csv":
		return nil
	case "jsonl":
		if command == "events" {
			return nil
		}
	}
	if command == "events" {
		return usageErrorf("--output must be table, json, csv or jsonl, not %q", g.output)
	}
	return usageErrorf("--output must be table, json or csv, not %q", g.output)
}
