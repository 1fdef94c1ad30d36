package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
)

func newUsersCmd(s *streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the team server's users and their roles",
		Long: `Users are the people (or helpdesk apps) the team server (maildiag serve) lets
in, kept in the index. Roles:

  viewer  search, trace, reports, the audit
  agent   also remove bounces, resend to the original recipient, ask for a
          resend to another address
  lead    also remove complaints and unsubscribes, approve a resend to
          another address asked for by someone else

A user logs in with an API token: maildiag tokens create USER.`,
		Example: `  maildiag users add alice --role lead
  maildiag users add helpdesk --role agent
  maildiag users list --output json`,
	}
	cmd.AddCommand(newUsersAddCmd(s, g), newUsersListCmd(s, g), newUsersRoleCmd(s, g))
	return cmd
}

var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

func checkRole(role string) error {
	if !slices.Contains(maildiag.Roles, role) {
		return usageErrorf("--role %q: %s", role, strings.Join(maildiag.Roles, ", "))
	}
	return nil
}

func newUsersAddCmd(s *streams, g *globals) *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "add NAME --role viewer|agent|lead",
		Short: "Add a user with a role",
		Long: `Add adds a user to the index's team server. NAME is letters, digits and . _ @ -
(at most 64). The audit records actions under it.

Exit status: 0 when added, 2 for a bad name or role, 3 when the user exists or
the index failed.`,
		Example: `  maildiag users add alice --role lead
  maildiag users add bob --role viewer --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !userName.MatchString(args[0]) {
				return usageErrorf("user name %q: letters, digits and . _ @ -, at most 64", args[0])
			}
			if err := checkRole(role); err != nil {
				return err
			}
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return withIndex(cmd.Context(), t, func(db teamAdmin) error {
				u := maildiag.User{Name: args[0], Role: role, CreatedUS: g.now().UnixMicro()}
				if err := db.AddUser(cmd.Context(), u); err != nil {
					if errors.Is(err, index.ErrUserExists) || errors.Is(err, pg.ErrUserExists) {
						return failure(fmt.Errorf("user %s exists (maildiag users role %s ROLE changes the role)", u.Name, u.Name))
					}
					return failure(err)
				}
				t := &table{title: "User added", columns: []string{"name", "role"}}
				t.add(u.Name, u.Role)
				return render(s.out, g.output, u, t)
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "viewer, agent or lead")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newUsersRoleCmd(s *streams, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "role NAME ROLE",
		Short:   "Change a user's role",
		Example: `  maildiag users role bob agent`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRole(args[1]); err != nil {
				return err
			}
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return withIndex(cmd.Context(), t, func(db teamAdmin) error {
				ok, err := db.SetUserRole(cmd.Context(), args[0], args[1])
				if err != nil {
					return failure(err)
				}
				if !ok {
					return &exitError{code: exitNo, err: fmt.Errorf("no user %s", args[0])}
				}
				u := maildiag.User{Name: args[0], Role: args[1]}
				t := &table{title: "Role changed", columns: []string{"name", "role"}}
				t.add(u.Name, u.Role)
				return render(s.out, g.output, u, t)
			})
		},
	}
}

func newUsersListCmd(s *streams, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the users and their roles",
		Example: `  maildiag users list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return withIndex(cmd.Context(), t, func(db teamAdmin) error {
				us, err := db.Users(cmd.Context())
				if err != nil {
					return failure(err)
				}
				if us == nil {
					us = []maildiag.User{}
				}
				t := &table{title: "Users", columns: []string{"name", "role", "created"}}
				for _, u := range us {
					t.add(u.Name, u.Role, usTime(u.CreatedUS))
				}
				return render(s.out, g.output, us, t)
			})
		},
	}
}

// teamAdmin is what users and tokens change in an index of either engine.
type teamAdmin interface {
	AddUser(ctx context.Context, u maildiag.User) error
	SetUserRole(ctx context.Context, name, role string) (bool, error)
	Users(ctx context.Context) ([]maildiag.User, error)
	User(ctx context.Context, name string) (*maildiag.User, error)
	AddAPIToken(ctx context.Context, user string, hash []byte, label string, atUS int64) error
	RevokeAPITokens(ctx context.Context, user string, atUS int64) (int, error)
	Close() error
}

// withIndex opens the index for writing (migrating it), a SQLite file or
// PostgreSQL, runs fn, closes.
func withIndex(ctx context.Context, t target, fn func(db teamAdmin) error) error {
	var db teamAdmin
	var err error
	if t.pgURL != "" {
		db, err = pg.Open(ctx, t.pgURL)
	} else {
		db, err = index.Open(ctx, t.path)
	}
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	return fn(db)
}
