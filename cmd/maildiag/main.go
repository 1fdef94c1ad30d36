// Command maildiag diagnoses mail delivery on Mailgun from a local index of
// its events and suppression lists.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	prefaultCode()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile()
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}
