package mgserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Refusal answers the requests under one path with a refusal, as Mailgun
// does for a key that may not read everything: a restricted key (403), a
// plan without a feature or a subaccount without the domain (404). It
// applies after authentication: the key is good, the resource is not its.
type Refusal struct {
	// Path is a path prefix, e.g. "/v3/mg.example.com/whitelists" or
	// "/v1/analytics/logs"; it matches itself and what lies below it.
	Path string
	// Status is 403 or 404.
	Status int
}

func (r Refusal) validate() error {
	if !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("refusal path %q does not start with /", r.Path)
	}
	if r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
		return fmt.Errorf("refusal status %d is not 403 or 404", r.Status)
	}
	return nil
}

func (r Refusal) matches(path string) bool {
	p := strings.TrimRight(r.Path, "/")
	return path == p || strings.HasPrefix(path, p+"/")
}

// refusalMessage is Mailgun's wording for each refusal.
func refusalMessage(status int) string {
	if status == http.StatusForbidden {
		return "Forbidden"
	}
	return "Not Found"
}

// refuse answers r with the first refusal whose path it falls under, and
// tells whether it did.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request) bool {
	for _, rf := range s.faultState().cfg.Refuse {
		if rf.matches(r.URL.Path) {
			s.stats.refused.Add(1)
			writeMessage(w, rf.Status, refusalMessage(rf.Status))
			return true
		}
	}
	return false
}

// ParseRefusal parses a refusal written STATUS:PATH, the form mgsim serve
// takes: "403:/v3/mg.example.com/whitelists".
func ParseRefusal(spec string) (Refusal, error) {
	code, path, ok := strings.Cut(strings.TrimSpace(spec), ":")
	if !ok {
		return Refusal{}, fmt.Errorf("refusal %q is not STATUS:PATH", spec)
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		return Refusal{}, fmt.Errorf("refusal %q: status %q is not a number", spec, code)
	}
	r := Refusal{Path: path, Status: n}
	if err := r.validate(); err != nil {
		return Refusal{}, err
	}
	return r, nil
}
