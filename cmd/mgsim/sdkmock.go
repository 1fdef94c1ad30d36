package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mailgun/mailgun-go/v5/mocks"
	"github.com/spf13/cobra"
)

// sdkMockOptions are the flags of mgsim sdk-mock.
type sdkMockOptions struct {
	IO        iostreams
	ReadyFile string
}

// newCmdSDKMock builds the sdk-mock command; runF, when set, replaces the
// run (for tests of the flags).
func newCmdSDKMock(s iostreams, runF func(context.Context, *sdkMockOptions) error) *cobra.Command {
	opts := &sdkMockOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "sdk-mock",
		Short: "Serve Mailgun's own SDK mock server (mailgun-go v5) on loopback",
		Long: `sdk-mock serves the mock Mailgun API that ships with mailgun-go v5 (package
mocks), as its maintainers wrote it, on a loopback address: a second opinion
beside mgsim serve, whose behaviour is the project's own. It holds one sending
domain (mailgun.test) with a few events, bounces, complaints and unsubscribes;
it has no Logs API and no allowlist, takes any API key, and ignores the time
range of event queries. The base URL is printed on stdout (and written to
--ready-file); Ctrl-C stops it.`,
		Example: `  mgsim sdk-mock --ready-file /tmp/mock.url &
  maildiag sync --api-base "$(cat /tmp/mock.url)" --api-key any --since 1h --window 1h`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("sdk-mock takes no arguments, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return sdkMockRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.ReadyFile, "ready-file", "", "write the base URL to this file once listening")
	return cmd
}

func sdkMockRun(ctx context.Context, o *sdkMockOptions) error {
	if o.ReadyFile != "" {
		if err := os.Remove(o.ReadyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old ready file: %w", err)
		}
	}
	ms := mocks.NewServer() // httptest: listens on 127.0.0.1
	defer ms.Stop()
	fmt.Fprintf(o.IO.Err, "mgsim: serving mailgun-go v5's mock server at %s\n", ms.URL())
	fmt.Fprintln(o.IO.Out, ms.URL())
	if o.ReadyFile != "" {
		if err := writeFileAtomic(o.ReadyFile, func(w io.Writer) error { _, err := fmt.Fprintln(w, ms.URL()); return err }); err != nil {
			return fmt.Errorf("write ready file: %w", err)
		}
		defer os.Remove(o.ReadyFile)
	}
	<-ctx.Done()
	return nil
}
