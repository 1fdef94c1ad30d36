package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/remedy"
	"github.com/maildiag/maildiag/report"
)

//go:embed ui
var uiFiles embed.FS

// pages are the UI's templates, each with the layout.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"fmtTime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05")
		},
		"fmtUS":          func(us int64) string { return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05") },
		"base":           filepath.Base,
		"removalBackups": removalBackups,
	}
	out := map[string]*template.Template{}
	for _, p := range []string{"login", "status", "search", "address", "domain", "audit", "resends", "health"} {
		out[p] = template.Must(template.New(p).Funcs(funcs).ParseFS(uiFiles, "ui/layout.html", "ui/"+p+".html"))
	}
	return out
}()

// pageData is what every page gets.
type pageData struct {
	Title  string
	User   *maildiag.User
	CSRF   string
	Error  string
	Notice string
	Data   any
}

// registerUI adds the web UI's routes.
func (s *Server) registerUI() {
	s.handle("GET", "/static/style.css", func(w http.ResponseWriter, r *http.Request) {
		b, _ := uiFiles.ReadFile("ui/style.css")
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(b)
	})
	s.handle("GET", "/login", s.loginPage)
	s.handle("POST", "/login", s.login)
	s.handle("POST", "/logout", s.ui(permRead, s.logout))
	s.handle("GET", "/{$}", s.ui(permRead, s.statusPage))
	s.handle("GET", "/search", s.ui(permRead, s.searchPage))
	s.handle("GET", "/address/{address}", s.ui(permRead, s.addressPage))
	s.handle("GET", "/domain/{pattern}", s.ui(permRead, s.domainPage))
	s.handle("POST", "/domain/{pattern}/remove", s.ui(permRemoveBounces, s.domainRemove))
	s.handle("POST", "/address/{address}/resend", s.ui(permResendOriginal, s.addressResend))
	s.handle("POST", "/domain/{pattern}/restore", s.ui(permRemoveBounces, s.domainRestore))
	s.handle("GET", "/health", s.ui(permRead, s.healthPage))
	s.handle("GET", "/health/report", s.ui(permRead, s.healthReport))
	s.handle("GET", "/audit", s.ui(permRead, s.auditPage))
	s.handle("POST", "/audit/restore", s.ui(permRemoveBounces, s.auditRestore))
	s.handle("GET", "/resends", s.ui(permRead, s.resendsPage))
	s.handle("POST", "/resends/{id}/approve", s.ui(permApproveResend, s.resendDecide(true)))
	s.handle("POST", "/resends/{id}/decline", s.ui(permApproveResend, s.resendDecide(false)))
}

// ui wraps a page handler: a session of a user whose role allows p, and
// on every POST the session's CSRF token.
func (s *Server) ui(p permission, h func(http.ResponseWriter, *http.Request, *who)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.sessionUser(r)
		if err == errNoAuth {
			if r.Method != http.MethodGet {
				http.Error(w, "log in first", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.pageFail(w, r, u, err)
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.user = u.user.Name
		}
		if r.Method == http.MethodPost && !checkCSRF(r, u.session.CSRF) {
			http.Error(w, "the form's CSRF token is missing or wrong: reload the page and try again", http.StatusForbidden)
			return
		}
		if !allowed(u.user.Role, p) {
			s.render(w, http.StatusForbidden, "status", pageData{Title: "Not allowed", User: &u.user, CSRF: u.session.CSRF,
				Error: "Role " + u.user.Role + " may not do this.", Data: &Status{Index: &IndexSummary{}}})
			return
		}
		h(w, r, u)
	}
}

// render writes a page; a template error is the server's fault.
func (s *Server) render(w http.ResponseWriter, code int, page string, d pageData) {
	var b bytes.Buffer
	if err := pages[page].ExecuteTemplate(&b, page+".html", d); err != nil {
		s.cfg.Log.Error("render page", "page", page, "error", err)
		http.Error(w, "the server failed; see its log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// pageFail shows an error on a page: the query's text for a bad query, a
// generic one otherwise (the log has the rest).
func (s *Server) pageFail(w http.ResponseWriter, r *http.Request, u *who, err error) {
	d := pageData{Title: "Error", Error: "The server failed; see its log."}
	code := http.StatusInternalServerError
	if isBad(err) {
		d.Error, code = err.Error(), http.StatusBadRequest
	} else {
		s.cfg.Log.Error("page failed", "path", r.URL.Path, "error", s.redact(err.Error()))
	}
	if u != nil {
		d.User, d.CSRF = &u.user, u.session.CSRF
	}
	d.Data = &Status{Index: &IndexSummary{}}
	s.render(w, code, "status", d)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	tok, _ := NewToken()
	http.SetCookie(w, s.cookie(r, loginCookie, tok, 3600))
	s.render(w, 200, "login", pageData{Title: "Log in", CSRF: tok, Data: safeNext(r.URL.Query().Get("next"))})
}

// safeNext is where to go after logging in: a path of this site only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

// login starts a session for the holder of an API token. Failures are
// counted per client in the index: past loginBurst in loginWindow the
// client waits.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		http.Error(w, "the log-in form's CSRF token is missing or wrong: reload the page", http.StatusForbidden)
		return
	}
	ctx := r.Context()
	now := s.now()
	cl := client(r)
	n, err := s.cfg.Store.LoginFailures(ctx, cl, now.Add(-loginWindow).UnixMicro())
	if err != nil {
		s.pageFail(w, r, nil, err)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if n >= loginBurst {
		w.Header().Set("Retry-After", strconv.Itoa(int(loginWindow.Seconds())))
		s.render(w, http.StatusTooManyRequests, "login", pageData{Title: "Log in", CSRF: c.Value, Data: next,
			Error: "Too many failed log-ins from your address: try again in 15 minutes."})
		return
	}
	u, err := s.cfg.Store.UserByToken(ctx, HashToken(strings.TrimSpace(r.PostFormValue("token"))))
	if err != nil {
		s.pageFail(w, r, nil, err)
		return
	}
	if u == nil {
		if err := s.cfg.Store.AddLoginFailure(ctx, cl, now.UnixMicro()); err != nil {
			s.pageFail(w, r, nil, err)
			return
		}
		s.cfg.Log.Warn("log-in failed", "client", cl)
		s.render(w, http.StatusUnauthorized, "login", pageData{Title: "Log in", CSRF: c.Value, Data: next, Error: "That token is not valid."})
		return
	}
	if err := s.startSession(ctx, w, r, u.Name); err != nil {
		s.pageFail(w, r, nil, err)
		return
	}
	http.SetCookie(w, s.cookie(r, loginCookie, "", -1))
	s.cfg.Log.Info("log-in", "user", u.Name)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, u *who) {
	if err := s.cfg.Store.DeleteSession(r.Context(), u.cookie); err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (u *who) page(title string, data any) pageData {
	return pageData{Title: title, User: &u.user, CSRF: u.session.CSRF, Data: data}
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request, u *who) {
	st, err := s.status(r.Context())
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	s.render(w, 200, "status", u.page("Status", st))
}

// searchData is the search page's.
type searchData struct {
	Q        url.Values
	Events   []string
	Searched bool
	Items    []analyze.EventItem
	Next     string
}

var eventNames = []string{"accepted", "delivered", "failed", "permanent-fail", "temporary-fail", "opened", "clicked", "unsubscribed", "complained", "stored", "rejected"}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request, u *who) {
	q := r.URL.Query()
	d := &searchData{Q: q, Events: eventNames}
	// Empty fields of the form are no filter.
	for k, v := range q {
		if len(v) == 1 && strings.TrimSpace(v[0]) == "" {
			q.Del(k)
		}
	}
	if len(q) > 0 {
		f, err := eventFilter(q, s.now())
		if err == nil {
			var next string
			d.Items, next, err = s.search(r.Context(), f)
			if next != "" {
				nq := url.Values{}
				for k, v := range q {
					nq[k] = v
				}
				nq.Set("cursor", next)
				d.Next = "/search?" + nq.Encode()
			}
		}
		if err != nil {
			if !isBad(err) {
				s.pageFail(w, r, u, err)
				return
			}
			p := u.page("Search", d)
			p.Error = err.Error()
			s.render(w, http.StatusBadRequest, "search", p)
			return
		}
		d.Searched = true
	}
	s.render(w, 200, "search", u.page("Search", d))
}

func (s *Server) addressPage(w http.ResponseWriter, r *http.Request, u *who) {
	addr := r.PathValue("address")
	o, err := traceOptions(r.URL.Query(), s.now())
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	res, err := analyze.Trace(r.Context(), s.cfg.Store, addr, o)
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	s.render(w, 200, "address", u.page(addr, map[string]any{"Trace": res, "Address": addr}))
}

// addressResend is a message's resend button on the address page: a dry
// run unless "yes" is ticked; to another address, a request a second lead
// approves on the resend requests page.
func (s *Server) addressResend(w http.ResponseWriter, r *http.Request, u *who) {
	addr := r.PathValue("address")
	ask := &ResendAsk{Query: r.PostFormValue("query"), To: r.PostFormValue("to"), Reason: r.PostFormValue("reason"),
		Anyway: r.PostFormValue("anyway") == "true", Yes: r.PostFormValue("yes") == "true"}
	code, ans, rerr := s.resend(r.Context(), ask, u, "POST "+r.URL.Path)
	if rerr != nil && code == 0 && !isBad(rerr) {
		s.pageFail(w, r, u, rerr)
		return
	}
	o, err := traceOptions(url.Values{}, s.now())
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	res, err := analyze.Trace(r.Context(), s.cfg.Store, addr, o)
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	p := u.page(addr, map[string]any{"Trace": res, "Address": addr})
	switch {
	case rerr != nil:
		p.Error = s.redact(rerr.Error())
		if code == 0 {
			code = http.StatusBadRequest
		}
	case ans.Request != nil:
		code = http.StatusAccepted
		p.Notice = fmt.Sprintf("Resend to %s filed as request %d: a lead other than you approves it on the resend requests page.", ans.Request.To, ans.Request.ID)
	case ans.DryRun:
		p.Notice = fmt.Sprintf("Dry run: message %s may be resent to %s. Tick \u201csend for real\u201d to send it.", ans.MessageID, ans.To)
	default:
		p.Notice = fmt.Sprintf("Resent message %s to %s: Mailgun's id %s.", ans.MessageID, ans.To, ans.NewMessageID)
	}
	s.render(w, code, "address", p)
}

// domainData is the customer-domain page's.
type domainData struct {
	Pattern string
	Res     *analyze.SuppressedResult
	Removal *remedy.RemoveResult
	Restore *RestoreAnswer
}

func (s *Server) domainPage(w http.ResponseWriter, r *http.Request, u *who) {
	pat := r.PathValue("pattern")
	res, err := s.suppressed(r.Context(), pat, r)
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	s.render(w, 200, "domain", u.page("Suppressed at "+pat, &domainData{Pattern: pat, Res: res}))
}

// domainRemove is the remove button: a dry run unless "yes" is ticked.
func (s *Server) domainRemove(w http.ResponseWriter, r *http.Request, u *who) {
	pat := r.PathValue("pattern")
	req := &RemoveRequest{Pattern: pat, Lists: []string{r.PostFormValue("list")}, Yes: r.PostFormValue("yes") == "true"}
	rm, code, err := s.remove(r.Context(), req, u, "POST "+r.URL.Path)
	d := &domainData{Pattern: pat, Removal: rm}
	p := u.page("Suppressed at "+pat, d)
	if err != nil {
		if code == 0 && !isBad(err) {
			s.pageFail(w, r, u, err)
			return
		}
		if code == 0 {
			code = http.StatusBadRequest
		}
		p.Error = err.Error()
	} else {
		code = 200
		if rm.DryRun {
			p.Notice = "Dry run: nothing was changed. Tick \u201cremove for real\u201d to remove them (a CSV backup is written first)."
		} else {
			p.Notice = "Removed " + strconv.Itoa(rm.Removed) + ", already gone " + strconv.Itoa(rm.NotFound) + ", failed " + strconv.Itoa(rm.Failed) + "."
		}
	}
	if res, err := s.suppressed(r.Context(), pat, r); err == nil {
		d.Res = res
	}
	s.render(w, code, "domain", p)
}

func (s *Server) healthPage(w http.ResponseWriter, r *http.Request, u *who) {
	q := r.URL.Query()
	since := q.Get("since")
	if since == "" {
		since = "7d"
	}
	nq := url.Values{"since": {since}}
	for _, k := range []string{"until", "to"} {
		if v := q.Get(k); v != "" {
			nq.Set(k, v)
		}
	}
	s.render(w, 200, "health", u.page("Health", map[string]string{"Since": since, "Until": q.Get("until"), "To": q.Get("to"), "Query": nq.Encode()}))
}

// healthReport serves the report package's page for the period. Its
// scripts are inline and allowed by hash in its own content policy, so
// this page's header policy allows scripts only as that one does.
func (s *Server) healthReport(w http.ResponseWriter, r *http.Request, u *who) {
	hq, err := healthQuery(r.URL.Query(), s.now())
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	res, err := analyze.Health(r.Context(), s.cfg.Store, hq, nil)
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	var b bytes.Buffer
	if err := report.Render(&b, res, report.Options{}); err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	w.Header().Del("Content-Security-Policy") // the page's own <meta> policy applies
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, u *who) {
	p, err := s.auditData(r.Context(), u)
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	s.render(w, 200, "audit", p)
}

// auditData is the audit page's: 30 days, newest first.
func (s *Server) auditData(ctx context.Context, u *who) (pageData, error) {
	es, err := s.cfg.Store.Audit(ctx, maildiag.AuditFilter{SinceUS: s.now().Add(-30 * 24 * time.Hour).UnixMicro()})
	if err != nil {
		return pageData{}, err
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return u.page("Audit (30 days)", es), nil
}

func (s *Server) resendsPage(w http.ResponseWriter, r *http.Request, u *who) {
	rs, err := s.cfg.Store.ResendRequests(r.Context(), "", 200)
	if err != nil {
		s.pageFail(w, r, u, err)
		return
	}
	s.render(w, 200, "resends", u.page("Resend requests", rs))
}

func (s *Server) resendDecide(approve bool) func(http.ResponseWriter, *http.Request, *who) {
	return func(w http.ResponseWriter, r *http.Request, u *who) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			s.pageFail(w, r, u, badf("id %q: a number", r.PathValue("id")))
			return
		}
		_, req, derr := s.decide(r.Context(), id, approve, u)
		rs, err := s.cfg.Store.ResendRequests(r.Context(), "", 200)
		if err != nil {
			s.pageFail(w, r, u, err)
			return
		}
		p := u.page("Resend requests", rs)
		code := 200
		switch {
		case derr != nil:
			p.Error, code = s.redact(derr.Error()), http.StatusConflict
		case req != nil:
			p.Notice = "Request " + strconv.FormatInt(id, 10) + ": " + req.Status + " " + req.Result
		}
		s.render(w, code, "resends", p)
	}
}
