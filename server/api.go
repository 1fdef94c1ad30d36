package server

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/remedy"
)

//go:embed openapi.json
var openAPI []byte

// register adds every route.
func (s *Server) register() {
	s.handle("GET", "/healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	s.handle("POST", "/webhooks/mailgun", s.webhook)
	s.handle("GET", "/api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	s.handle("GET", "/api/v1/status", s.api(permRead, s.apiStatus))
	s.handle("GET", "/api/v1/events", s.api(permRead, s.apiEvents))
	s.handle("GET", "/api/v1/trace/{query}", s.api(permRead, s.apiTrace))
	s.handle("GET", "/api/v1/suppressed/{pattern}", s.api(permRead, s.apiSuppressed))
	s.handle("GET", "/api/v1/failures", s.api(permRead, s.apiFailures))
	s.handle("GET", "/api/v1/health", s.api(permRead, s.apiHealth))
	s.handle("GET", "/api/v1/audit", s.api(permRead, s.apiAudit))
	s.handle("POST", "/api/v1/suppressions/remove", s.api(permRemoveBounces, apiAct(s, s.remove)))
	s.handle("POST", "/api/v1/suppressions/restore", s.api(permRemoveBounces, apiAct(s, s.restore)))
	s.handle("POST", "/api/v1/resend", s.api(permResendOriginal, s.apiResend))
	s.handle("GET", "/api/v1/resend-requests", s.api(permRead, s.apiResendRequests))
	s.handle("POST", "/api/v1/resend-requests/{id}/approve", s.api(permApproveResend, s.apiDecide(true)))
	s.handle("POST", "/api/v1/resend-requests/{id}/decline", s.api(permApproveResend, s.apiDecide(false)))
	s.registerUI()
}

// apiError is every error answer of the API.
type apiError struct {
	Error string `json:"error"`
}

// api wraps an API handler: a bearer token of a user whose role allows p.
func (s *Server) api(p permission, h func(http.ResponseWriter, *http.Request, *who)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.apiUser(r)
		switch {
		case errors.Is(err, errNoAuth):
			w.Header().Set("WWW-Authenticate", `Bearer realm="maildiag"`)
			writeJSON(w, http.StatusUnauthorized, apiError{"an API token is required: Authorization: Bearer TOKEN (maildiag tokens create USER)"})
			return
		case err != nil:
			s.fail(w, err)
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.user = u.user.Name
		}
		if !allowed(u.user.Role, p) {
			writeJSON(w, http.StatusForbidden, apiError{fmt.Sprintf("role %s may not do this", u.user.Role)})
			return
		}
		if r.Method == http.MethodGet {
			select {
			case s.reads <- struct{}{}:
				defer func() { <-s.reads }()
			case <-r.Context().Done():
				return // the client left while waiting
			}
		}
		h(w, r, u)
	}
}

// fail answers an error: 400 for a bad query, else 500 with a generic
// text (the details go to the log, which holds no secret either).
func (s *Server) fail(w http.ResponseWriter, err error) {
	if isBad(err) {
		writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.cfg.Log.Error("request failed", "error", s.redact(err.Error()))
	writeJSON(w, http.StatusInternalServerError, apiError{"the server failed; see its log"})
}

func (s *Server) redact(text string) string {
	return redactSecrets(text, s.cfg.APIKey, s.cfg.SigningKey)
}

// Status is the answer of GET /api/v1/status and what the status page shows.
type Status struct {
	Index    *IndexSummary `json:"index"`
	Sync     SyncInfo      `json:"sync"`
	Webhooks WebhookInfo   `json:"webhooks"`
}

// SyncInfo is the continuous sync's state.
type SyncInfo struct {
	Enabled bool       `json:"enabled"`
	Note    string     `json:"note,omitempty"`
	Every   string     `json:"every,omitempty"`
	Last    *SyncState `json:"last,omitempty"`
}

// WebhookInfo says whether webhooks are taken.
type WebhookInfo struct {
	Enabled bool   `json:"enabled"`
	MaxAge  string `json:"max_age"`
	Note    string `json:"note,omitempty"`
}

func (s *Server) status(ctx context.Context) (*Status, error) {
	sum, err := s.cfg.Store.Summary(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{Index: sum, Webhooks: WebhookInfo{Enabled: s.cfg.SigningKey != "", MaxAge: s.cfg.WebhookMaxAge.String()}}
	if !st.Webhooks.Enabled {
		st.Webhooks.Note = "webhooks are refused: no signing key (MG_WEBHOOK_SIGNING_KEY or --webhook-signing-key-file)"
	}
	st.Sync.Enabled = s.cfg.Sync != nil
	if st.Sync.Enabled {
		st.Sync.Every = s.cfg.SyncEvery.String()
	} else {
		st.Sync.Note = "sync is off: no Mailgun API key (MG_API_KEY); the server answers from what the index holds and what webhooks bring"
	}
	if st.Sync.Last, err = s.syncState(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request, _ *who) {
	st, err := s.status(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, 200, st)
}

// search runs an events search: the page and the next cursor.
func (s *Server) search(ctx context.Context, f analyze.EventFilter) ([]analyze.EventItem, string, error) {
	items := []analyze.EventItem{}
	next, err := s.cfg.Store.SearchEvents(ctx, f, func(e *maildiag.Event) error {
		items = append(items, analyze.ItemOf(e))
		return nil
	})
	if err != nil && strings.HasPrefix(err.Error(), "cursor ") {
		err = badf("%v", err)
	}
	return items, next, err
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request, _ *who) {
	f, err := eventFilter(r.URL.Query(), s.now())
	if err != nil {
		s.fail(w, err)
		return
	}
	items, next, err := s.search(r.Context(), f)
	if err != nil {
		s.fail(w, err)
		return
	}
	if next != "" {
		// The body keeps the CLI's contract (an array); the next page is
		// a header.
		q := r.URL.Query()
		q.Set("cursor", next)
		w.Header().Set("X-Next-Cursor", next)
		w.Header().Set("Link", fmt.Sprintf("<%s?%s>; rel=\"next\"", r.URL.Path, q.Encode()))
	}
	writeJSON(w, 200, items)
}

func (s *Server) apiTrace(w http.ResponseWriter, r *http.Request, _ *who) {
	o, err := traceOptions(r.URL.Query(), s.now())
	if err != nil {
		s.fail(w, err)
		return
	}
	res, err := analyze.Trace(r.Context(), s.cfg.Store, r.PathValue("query"), o)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, 200, res)
}

func (s *Server) apiSuppressed(w http.ResponseWriter, r *http.Request, _ *who) {
	res, err := s.suppressed(r.Context(), r.PathValue("pattern"), r)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, 200, res)
}

func (s *Server) suppressed(ctx context.Context, pat string, r *http.Request) (*analyze.SuppressedResult, error) {
	p, err := analyze.ParsePattern(pat)
	if err != nil {
		return nil, badf("%v", err)
	}
	o, err := suppressedOptions(r.URL.Query(), s.now())
	if err != nil {
		return nil, err
	}
	return analyze.Suppressed(ctx, s.cfg.Store, p, o)
}

func (s *Server) apiFailures(w http.ResponseWriter, r *http.Request, _ *who) {
	q, err := failureQuery(r.URL.Query(), s.now())
	if err != nil {
		s.fail(w, err)
		return
	}
	res, err := analyze.Failures(r.Context(), s.cfg.Store, q)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, 200, res)
}

func (s *Server) apiHealth(w http.ResponseWriter, r *http.Request, _ *who) {
	q, err := healthQuery(r.URL.Query(), s.now())
	if err != nil {
		s.fail(w, err)
		return
	}
	res, err := analyze.Health(r.Context(), s.cfg.Store, q, nil)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, 200, res)
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, _ *who) {
	since, err := maildiag.ParseWhen(r.URL.Query().Get("since"), s.now())
	if err != nil {
		s.fail(w, badf("since: %v", err))
		return
	}
	es, err := s.cfg.Store.Audit(r.Context(), maildiag.AuditFilter{SinceUS: since.UnixMicro()})
	if err != nil {
		s.fail(w, err)
		return
	}
	if es == nil {
		es = []maildiag.AuditEntry{}
	}
	writeJSON(w, 200, es)
}

// RemoveRequest is the body of POST /api/v1/suppressions/remove: the
// flags of maildiag suppressions remove.
type RemoveRequest struct {
	Pattern             string   `json:"pattern"`
	Lists               []string `json:"lists,omitempty"` // default bounces
	SendingDomains      []string `json:"sending_domains,omitempty"`
	Classes             []string `json:"classes,omitempty"`
	After               string   `json:"after,omitempty"`
	Before              string   `json:"before,omitempty"`
	IncludeUnknownUsers bool     `json:"include_unknown_users,omitempty"`
	Max                 int      `json:"max,omitempty"`
	Yes                 bool     `json:"yes,omitempty"` // remove for real; default a dry run
}

// filter checks the request and turns it into the removal's filter.
func (q *RemoveRequest) filter(now time.Time) (remedy.RemoveFilter, error) {
	f := remedy.RemoveFilter{Lists: remedy.DefaultLists, SendingDomains: q.SendingDomains, Classes: q.Classes, IncludeUnknownUsers: q.IncludeUnknownUsers}
	if q.Pattern == "" {
		return f, badf("pattern is required")
	}
	if len(q.Lists) > 0 {
		f.Lists = nil
		for _, l := range q.Lists {
			l = strings.ToLower(strings.TrimSpace(l))
			if !slices.Contains(remedy.RemovableLists, l) {
				return f, badf("list %q: bounces, unsubscribes or complaints (the allowlist is not a suppression)", l)
			}
			if !slices.Contains(f.Lists, l) {
				f.Lists = append(f.Lists, l)
			}
		}
	}
	for _, c := range q.Classes {
		if _, ok := maildiag.ClassOf(c); !ok {
			return f, badf("class %q: not a failure class", c)
		}
	}
	var err error
	if f.After, err = maildiag.ParseWhen(q.After, now); err != nil {
		return f, badf("after: %v", err)
	}
	if f.Before, err = maildiag.ParseWhen(q.Before, now); err != nil {
		return f, badf("before: %v", err)
	}
	if q.Max < 0 {
		return f, badf("max must be positive")
	}
	return f, nil
}

// permFor is what removing from these lists needs.
func permFor(lists []string) permission {
	for _, l := range lists {
		if l != maildiag.ListBounces {
			return permRemoveOthers
		}
	}
	return permRemoveBounces
}

// apiAct decodes an action's request body, runs the action as u and
// answers its result, or its refusal with the status it gives.
func apiAct[Q, A any](s *Server, act func(context.Context, *Q, *who, string) (A, int, error)) func(http.ResponseWriter, *http.Request, *who) {
	return func(w http.ResponseWriter, r *http.Request, u *who) {
		var req Q
		if err := decodeBody(r, &req); err != nil {
			s.fail(w, err)
			return
		}
		res, code, err := act(r.Context(), &req, u, "POST "+r.URL.Path)
		if err != nil {
			if code != 0 {
				writeJSON(w, code, apiError{err.Error()})
				return
			}
			s.fail(w, err)
			return
		}
		writeJSON(w, 200, res)
	}
}

// remove plans and (with Yes) runs a removal as u, as the CLI does: a
// dry run by default, a backup first, every action audited. code is the
// HTTP status of a refusal.
func (s *Server) remove(ctx context.Context, req *RemoveRequest, u *who, door string) (*remedy.RemoveResult, int, error) {
	f, err := req.filter(s.now())
	if err != nil {
		return nil, 0, err
	}
	if !allowed(u.user.Role, permFor(f.Lists)) {
		return nil, http.StatusForbidden, fmt.Errorf("role %s may not remove %s: complaints and unsubscribes need a lead", u.user.Role, strings.Join(f.Lists, ", "))
	}
	p, err := analyze.ParsePattern(req.Pattern)
	if err != nil {
		return nil, 0, badf("%v", err)
	}
	diag, err := analyze.Suppressed(ctx, s.cfg.Store, p, analyze.SuppressedOptions{SendingDomains: f.SendingDomains, Lists: f.Lists})
	if err != nil {
		return nil, 0, err
	}
	res, err := remedy.PlanRemoval(ctx, s.cfg.Store, diag, f, s.cfg.BackupDir)
	if err != nil {
		return nil, 0, err
	}
	res.DryRun = !req.Yes
	if len(res.Entries) == 0 {
		return res, 0, nil
	}
	if req.Yes && s.cfg.Mailgun == nil {
		return nil, http.StatusServiceUnavailable, errors.New("actions are off: the server has no Mailgun API key (MG_API_KEY)")
	}
	overMax := res.CheckMax(req.Max)
	if req.Yes && overMax != nil {
		return nil, http.StatusUnprocessableEntity, overMax
	}
	wr, err := s.cfg.NewWriter(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer wr.Close()
	sess := s.session(wr, u.user.Name, door+" "+req.Pattern)
	if !req.Yes {
		return res, 0, sess.DryRun(ctx, res)
	}
	if err := sess.Backup(ctx, res); err != nil {
		return nil, 0, err
	}
	sess.Client = s.cfg.Mailgun
	if err := sess.Remove(ctx, res); err != nil {
		return nil, 0, err
	}
	return res, 0, nil
}

// session is a remediation session of a server user.
func (s *Server) session(wr Writer, user, command string) *remedy.Session {
	run, _ := NewToken()
	return &remedy.Session{W: wr, Who: remedy.Identity{Run: run[len(TokenPrefix):][:16], User: user, Command: "maildiag serve: " + command},
		Now: s.now, Key: s.cfg.APIKey, Client: s.cfg.Mailgun}
}

// ResendAsk is the body of POST /api/v1/resend: the arguments of
// maildiag resend.
type ResendAsk struct {
	Query  string `json:"query"`            // event id or message-id
	To     string `json:"to,omitempty"`     // another address: a request a lead approves
	Reason string `json:"reason,omitempty"` // why, for the approver
	Anyway bool   `json:"anyway,omitempty"` // an expired-looking link all the same
	Yes    bool   `json:"yes,omitempty"`    // send; default a dry run
}

// ResendAnswer is what POST /api/v1/resend answers: the CLI's result, or
// a request waiting for approval.
type ResendAnswer struct {
	*remedy.ResendResult
	Request *maildiag.ResendRequest `json:"request,omitempty"`
}

func (s *Server) apiResend(w http.ResponseWriter, r *http.Request, u *who) {
	var ask ResendAsk
	if err := decodeBody(r, &ask); err != nil {
		s.fail(w, err)
		return
	}
	code, v, err := s.resend(r.Context(), &ask, u, "POST "+r.URL.Path)
	if err != nil {
		if code != 0 {
			writeJSON(w, code, apiError{err.Error()})
			return
		}
		s.fail(w, err)
		return
	}
	writeJSON(w, code, v)
}

// resend checks and sends (with Yes) a resend to the original recipient,
// or files a request for a resend elsewhere.
func (s *Server) resend(ctx context.Context, ask *ResendAsk, u *who, door string) (int, *ResendAnswer, error) {
	ask.Query, ask.To = strings.TrimSpace(ask.Query), strings.ToLower(strings.TrimSpace(ask.To))
	if ask.Query == "" {
		return 0, nil, badf("query (an event id or message-id) is required")
	}
	if ask.To != "" && (strings.Count(ask.To, "@") != 1 || strings.ContainsAny(ask.To, " ,;<>")) {
		return 0, nil, badf("to %q: one email address", ask.To)
	}
	m, code, err := s.findMessage(ctx, ask.Query)
	if err != nil {
		return code, nil, err
	}
	if ask.To != "" && !slices.Contains(m.Recipients, ask.To) {
		req := &maildiag.ResendRequest{Query: ask.Query, To: ask.To, Reason: ask.Reason, RequestedBy: u.user.Name, RequestedUS: s.now().UnixMicro()}
		if err := s.cfg.Store.AddResendRequest(ctx, req); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, &ResendAnswer{Request: req}, nil
	}
	wr, err := s.cfg.NewWriter(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer wr.Close()
	sess := s.session(wr, u.user.Name, door+" "+ask.Query)
	return s.checkAndSend(ctx, sess, m, remedy.ResendAsk{To: ask.To, Anyway: ask.Anyway}, ask.Yes)
}

// findMessage finds a message of the index by event id or message-id.
func (s *Server) findMessage(ctx context.Context, query string) (*remedy.StoredMessage, int, error) {
	m, err := remedy.FindMessage(ctx, s.cfg.Store, query)
	var ambiguous *remedy.AmbiguousError
	switch {
	case errors.As(err, &ambiguous):
		return nil, http.StatusConflict, err
	case errors.Is(err, remedy.ErrNotInIndex):
		return nil, http.StatusNotFound, err
	}
	return m, 0, err
}

// checkAndSend applies the resend's guards, then sends when yes.
func (s *Server) checkAndSend(ctx context.Context, sess *remedy.Session, m *remedy.StoredMessage, ask remedy.ResendAsk, yes bool) (int, *ResendAnswer, error) {
	rs, err := sess.CheckResend(ctx, s.cfg.Store, m, ask)
	var refused *remedy.RefusedError
	switch {
	case errors.Is(err, remedy.ErrChooseRecipient):
		return http.StatusUnprocessableEntity, nil, fmt.Errorf("message %s went to %d recipients (%s): choose one with to", m.MessageID, len(m.Recipients), strings.Join(m.Recipients, ", "))
	case errors.As(err, &refused):
		return http.StatusUnprocessableEntity, nil, fmt.Errorf("%v. To go on: %s", refused, refused.Fix)
	case errors.Is(err, remedy.ErrNoStoredCopy):
		return http.StatusNotFound, nil, err
	case err != nil:
		return 0, nil, err
	}
	if !yes {
		return 200, &ResendAnswer{ResendResult: rs.Plan()}, nil
	}
	if s.cfg.Mailgun == nil {
		return http.StatusServiceUnavailable, nil, errors.New("actions are off: the server has no Mailgun API key (MG_API_KEY)")
	}
	res, err := sess.Send(ctx, rs)
	var gone *remedy.GoneError
	if errors.As(err, &gone) {
		return http.StatusGone, nil, err
	}
	if err != nil {
		return 0, nil, err
	}
	return 200, &ResendAnswer{ResendResult: res}, nil
}

func (s *Server) apiResendRequests(w http.ResponseWriter, r *http.Request, _ *who) {
	rs, err := s.cfg.Store.ResendRequests(r.Context(), r.URL.Query().Get("status"), 200)
	if err != nil {
		s.fail(w, err)
		return
	}
	if rs == nil {
		rs = []maildiag.ResendRequest{}
	}
	writeJSON(w, 200, rs)
}

func (s *Server) apiDecide(approve bool) func(http.ResponseWriter, *http.Request, *who) {
	return func(w http.ResponseWriter, r *http.Request, u *who) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			s.fail(w, badf("id %q: a number", r.PathValue("id")))
			return
		}
		code, v, err := s.decide(r.Context(), id, approve, u)
		if err != nil {
			if code != 0 {
				writeJSON(w, code, apiError{err.Error()})
				return
			}
			s.fail(w, err)
			return
		}
		writeJSON(w, code, v)
	}
}

// decide approves (and sends) or declines a pending resend request. The
// approver is a lead other than the requester; the audit names both, with
// both times.
func (s *Server) decide(ctx context.Context, id int64, approve bool, u *who) (int, *maildiag.ResendRequest, error) {
	st := s.cfg.Store
	req, err := st.ResendRequest(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	if req == nil {
		return http.StatusNotFound, nil, fmt.Errorf("no resend request %d", id)
	}
	if req.RequestedBy == u.user.Name {
		return http.StatusForbidden, nil, errors.New("a second person approves a resend to another address: not the one who asked for it")
	}
	if req.Status != maildiag.ResendPending {
		return http.StatusConflict, nil, fmt.Errorf("resend request %d is %s already", id, req.Status)
	}
	if approve && s.cfg.Mailgun == nil {
		return http.StatusServiceUnavailable, nil, errors.New("actions are off: the server has no Mailgun API key (MG_API_KEY)")
	}
	status := maildiag.ResendDeclined
	if approve {
		status = maildiag.ResendSent
	}
	nowUS := s.now().UnixMicro()
	ok, err := st.DecideResendRequest(ctx, id, status, u.user.Name, nowUS)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return http.StatusConflict, nil, fmt.Errorf("resend request %d was decided by someone else first", id)
	}
	req.Status, req.DecidedBy, req.DecidedUS = status, u.user.Name, nowUS
	if !approve {
		return 200, req, nil
	}
	finish := func(status, result string) (int, *maildiag.ResendRequest, error) {
		req.Status, req.Result = status, s.redact(result)
		return 200, req, st.FinishResendRequest(context.WithoutCancel(ctx), id, status, req.Result)
	}
	m, _, err := s.findMessage(ctx, req.Query)
	if err != nil {
		return finish(maildiag.ResendFailed, err.Error())
	}
	wr, err := s.cfg.NewWriter(ctx)
	if err != nil {
		return finish(maildiag.ResendFailed, err.Error())
	}
	defer wr.Close()
	at := func(us int64) string { return time.UnixMicro(us).UTC().Format(time.RFC3339) }
	sess := s.session(wr, req.RequestedBy, fmt.Sprintf("resend request %d of %s at %s to %s, approved by %s at %s",
		id, req.RequestedBy, at(req.RequestedUS), req.To, u.user.Name, at(nowUS)))
	approvedBy := fmt.Sprintf("%s at %s", u.user.Name, at(nowUS))
	code, ans, err := s.checkAndSend(ctx, sess, m, remedy.ResendAsk{To: req.To, ApprovedBy: approvedBy}, true)
	switch {
	case err != nil && code == http.StatusUnprocessableEntity:
		return finish(maildiag.ResendRefused, err.Error())
	case err != nil:
		return finish(maildiag.ResendFailed, err.Error())
	}
	return finish(maildiag.ResendSent, "new message "+ans.NewMessageID)
}

// decodeBody reads a JSON body (at most 64 kB), refusing unknown fields.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badf("body: %v", err)
	}
	return nil
}
