// Command mgsim generates realistic synthetic Mailgun accounts for tests,
// benchmarks and demos: events in every shape Mailgun produces, suppression
// lists, and a manifest of the stories planted in them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// iostreams are the command's input and outputs, injected for tests.
type iostreams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the work failed
	exitUsage = 2 // bad flags or arguments
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], iostreams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}

// run executes mgsim with args and returns the exit code.
func run(ctx context.Context, args []string, s iostreams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(s.Err, "mgsim: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

// usageError marks errors in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func newRootCmd(s iostreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "mgsim",
		Short: "Simulate Mailgun accounts: events, suppression lists, planted stories",
		Long: `mgsim generates realistic synthetic Mailgun accounts, deterministic by seed:
the events of a few sending domains over some days, in any shape Mailgun
produces, with the suppression lists they build and a manifest of the
delivery stories planted in them.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// Subcommands, one line each.
	root.AddCommand(newCmdGenerate(s, time.Now, nil))
	root.AddCommand(newCmdServe(s, time.Now, nil))
	root.AddCommand(newCmdSDKMock(s, nil))
	return root
}
