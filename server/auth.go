package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// TokenPrefix starts every API token, so that one pasted somewhere it
// should not be is recognisable.
const TokenPrefix = "mdg_"

// NewToken makes a new API token and the hash the index keeps of it.
func NewToken() (token string, hash []byte) {
	var b [32]byte
	rand.Read(b[:])
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken is what the index keeps of a token or session cookie: its
// SHA-256 (they are 256 random bits, so no slow hash is needed).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Permissions: what each action needs.
type permission int

const (
	permRead           permission = iota // search, trace, reports, audit
	permRemoveBounces                    // remove or restore bounces
	permRemoveOthers                     // remove or restore complaints and unsubscribes
	permResendOriginal                   // resend to the original recipient; ask for a resend elsewhere
	permApproveResend                    // approve a resend elsewhere
)

// allowed tells whether a role may do what p names.
func allowed(role string, p permission) bool {
	switch p {
	case permRead:
		return maildiag.RoleRank(role) >= 1
	case permRemoveBounces, permResendOriginal:
		return maildiag.RoleRank(role) >= 2
	case permRemoveOthers, permApproveResend:
		return maildiag.RoleRank(role) >= 3
	}
	return false
}

// who is the user a request acts as.
type who struct {
	user    maildiag.User
	session *maildiag.Session // nil for an API token
	cookie  []byte            // the session cookie's hash
}

// Cookie names.
const (
	sessionCookie = "maildiag_session"
	loginCookie   = "maildiag_login" // the log-in form's CSRF token, before a session
	sessionLife   = 12 * time.Hour
)

var errNoAuth = errors.New("not logged in")

// apiUser finds the user of an API request by its bearer token.
func (s *Server) apiUser(r *http.Request) (*who, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, errNoAuth
	}
	u, err := s.cfg.Store.UserByToken(r.Context(), HashToken(strings.TrimSpace(tok)))
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errNoAuth
	}
	return &who{user: *u}, nil
}

// sessionUser finds the user of a browser request by its session cookie.
func (s *Server) sessionUser(r *http.Request) (*who, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoAuth
	}
	hash := HashToken(c.Value)
	ctx := r.Context()
	sess, err := s.cfg.Store.SessionByHash(ctx, hash, s.now().UnixMicro())
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return nil, errNoAuth
	}
	u, err := s.cfg.Store.User(ctx, sess.User)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errNoAuth
	}
	return &who{user: *u, session: sess, cookie: hash}, nil
}

// startSession logs a user in: a new session in the index, its cookie.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, user string) error {
	value, hash := NewToken()
	csrf, _ := NewToken()
	now := s.now()
	sess := maildiag.Session{User: user, CSRF: csrf, ExpiresUS: now.Add(sessionLife).UnixMicro()}
	if err := s.cfg.Store.AddSession(ctx, hash, sess, now.UnixMicro()); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, value, int(sessionLife.Seconds())))
	return nil
}

// cookie is a cookie the page's script cannot read, sent to this site
// only, and only over HTTPS when the server is reached through it.
func (s *Server) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.cfg.SecureCookies || r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"}
}

// checkCSRF tells whether a form carries the session's CSRF token.
func checkCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Log-in rate limit: at most loginBurst failures of a client in
// loginWindow, counted in the index (every server process sees them).
const (
	loginBurst  = 5
	loginWindow = 15 * time.Minute
)

// client is who a log-in comes from: the peer's address.
func client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
