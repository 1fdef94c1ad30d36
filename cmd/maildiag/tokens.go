package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/server"
)

func newTokensCmd(s *streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Create and revoke API tokens of the team server's users",
		Long: `A token lets a user (or a helpdesk app) into the team server: the API takes it as
Authorization: Bearer TOKEN, the web UI's log-in page takes it once per session.
The token is printed once; the index keeps only its SHA-256.`,
		Example: `  maildiag tokens create alice
  maildiag tokens create helpdesk --label zendesk --output json
  maildiag tokens revoke alice`,
	}
	cmd.AddCommand(newTokensCreateCmd(s, g), newTokensRevokeCmd(s, g))
	return cmd
}

// tokenOut is the --output json contract of tokens create.
type tokenOut struct {
	User  string `json:"user"`
	Role  string `json:"role"`
	Label string `json:"label,omitempty"`
	Token string `json:"token"`
}

func newTokensCreateCmd(s *streams, g *globals) *cobra.Command {
	var label string
	cmd := &cobra.Command{
		Use:   "create USER",
		Short: "Create an API token for a user (printed once)",
		Long: `Create makes a new token for USER and prints it once: keep it in the helpdesk's
secret store or a password manager. The index keeps only its hash, so a lost
token cannot be shown again; create another and revoke the old ones.

Exit status: 0 when created, 1 when there is no such user, 3 on failure.`,
		Example: `  maildiag tokens create alice
  TOKEN=$(maildiag tokens create helpdesk --label zendesk --output json | jq -r .token)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return withIndex(cmd.Context(), t, func(db teamAdmin) error {
				ctx := cmd.Context()
				u, err := db.User(ctx, args[0])
				if err != nil {
					return failure(err)
				}
				if u == nil {
					return &exitError{code: exitNo, err: fmt.Errorf("no user %s (maildiag users add %s --role viewer)", args[0], args[0])}
				}
				tok, hash := server.NewToken()
				if err := db.AddAPIToken(ctx, u.Name, hash, label, g.now().UnixMicro()); err != nil {
					return failure(err)
				}
				out := tokenOut{User: u.Name, Role: u.Role, Label: label, Token: tok}
				if g.output == "table" {
					fmt.Fprintf(s.out, "%s\n", tok)
					fmt.Fprintf(s.err, "maildiag: token for %s (%s): shown once, the index keeps only its hash\n", u.Name, u.Role)
					return nil
				}
				t := &table{columns: []string{"user", "role", "label", "token"}}
				t.add(out.User, out.Role, out.Label, out.Token)
				return render(s.out, g.output, out, t)
			})
		},
	}
	cmd.Flags().StringVar(&label, "label", "", "what the token is for (a helpdesk app, a laptop)")
	return cmd
}

func newTokensRevokeCmd(s *streams, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke USER",
		Short:   "Revoke every token of a user",
		Example: `  maildiag tokens revoke alice`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return withIndex(cmd.Context(), t, func(db teamAdmin) error {
				n, err := db.RevokeAPITokens(cmd.Context(), args[0], g.now().UnixMicro())
				if err != nil {
					return failure(err)
				}
				out := map[string]any{"user": args[0], "revoked": n}
				t := &table{columns: []string{"user", "revoked"}}
				t.add(args[0], n)
				return render(s.out, g.output, out, t)
			})
		},
	}
}
