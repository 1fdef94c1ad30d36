package server

import (
	"context"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/remedy"
	"github.com/maildiag/maildiag/syncer"
)

// Store is what the server reads and keeps in the index besides events.
type Store interface {
	analyze.Store
	syncer.Store
	remedy.AuditLog
	remedy.MessageStore
	// SearchEvents calls fn with the events f selects, in its order, and
	// returns the cursor of the next page ("" at the end).
	SearchEvents(ctx context.Context, f analyze.EventFilter, fn func(*maildiag.Event) error) (string, error)
	// Summary is what the status page shows of the index.
	Summary(ctx context.Context) (*IndexSummary, error)
	Team
}

// Team is the server's own tables: users, tokens, sessions, log-in
// failures, leases and resend requests.
type Team interface {
	User(ctx context.Context, name string) (*maildiag.User, error)
	UserByToken(ctx context.Context, hash []byte) (*maildiag.User, error)
	AddSession(ctx context.Context, hash []byte, s maildiag.Session, nowUS int64) error
	SessionByHash(ctx context.Context, hash []byte, nowUS int64) (*maildiag.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	LoginFailures(ctx context.Context, client string, sinceUS int64) (int, error)
	AddLoginFailure(ctx context.Context, client string, atUS int64) error
	AcquireLease(ctx context.Context, name, holder string, nowUS, untilUS int64) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	SetLeaseNote(ctx context.Context, name, holder, note string) error
	Lease(ctx context.Context, name string) (*maildiag.Lease, error)
	AddResendRequest(ctx context.Context, r *maildiag.ResendRequest) error
	ResendRequest(ctx context.Context, id int64) (*maildiag.ResendRequest, error)
	ResendRequests(ctx context.Context, status string, limit int) ([]maildiag.ResendRequest, error)
	DecideResendRequest(ctx context.Context, id int64, status, by string, atUS int64) (bool, error)
	FinishResendRequest(ctx context.Context, id int64, status, result string) error
}

// Writer stores events and records actions, in transactions it commits;
// one goroutine at a time uses it.
type Writer interface {
	remedy.Writer
	syncer.Writer
	FirstWebhookToken(ctx context.Context, token string, atUS int64) (bool, error)
	ForgetWebhookTokens(ctx context.Context, beforeUS int64) error
	Close() error
}

// IndexSummary is what the index holds, for the status page.
type IndexSummary struct {
	Events       int64           `json:"events"`
	First        time.Time       `json:"first_event,omitzero"`
	Last         time.Time       `json:"last_event,omitzero"`
	Domains      []DomainSummary `json:"sending_domains"`
	Suppressions int64           `json:"suppressions"`
}

// DomainSummary is one sending domain on the status page.
type DomainSummary struct {
	Name     string    `json:"name"`
	Events   int64     `json:"events"`
	SyncedTo time.Time `json:"synced_to,omitzero"` // events before it are complete
	LastSync time.Time `json:"last_sync,omitzero"`
}
