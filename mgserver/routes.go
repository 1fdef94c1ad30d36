package mgserver

import (
	"net/http"
	"net/url"
	"strings"
)

// route dispatches by path segments. ServeMux patterns cannot express
// Mailgun's layout: /v3/domains/{name} and /v3/{domain}/events overlap.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	seg, ok := segments(r.URL)
	if !ok || len(seg) < 2 {
		notFound(w)
		return
	}
	method := r.Method
	switch {
	case len(seg) == 3 && seg[0] == "v1" && seg[1] == "analytics" && seg[2] == "logs":
		if method != http.MethodPost {
			methodNotAllowed(w)
			return
		}
		s.handleLogs(w, r)
	case len(seg) == 3 && seg[0] == "v1" && seg[1] == "analytics" && seg[2] == "metrics":
		if method != http.MethodPost {
			methodNotAllowed(w)
			return
		}
		s.handleMetrics(w, r)
	case (seg[0] == "v3" || seg[0] == "v4") && seg[1] == "domains" && len(seg) <= 3:
		if method != http.MethodGet {
			methodNotAllowed(w)
			return
		}
		if len(seg) == 2 {
			s.handleDomains(w, r)
		} else {
			s.handleDomain(w, r, seg[2])
		}
	case seg[0] == "v3" && seg[1] == "domains" && len(seg) == 5 && seg[3] == "messages":
		switch method {
		case http.MethodGet:
			s.handleStoredMessage(w, r, seg[2], seg[4])
		case http.MethodPost:
			s.handleResend(w, r, seg[2], seg[4])
		default:
			methodNotAllowed(w)
		}
	case seg[0] == "v3" && len(seg) >= 3 && seg[2] == "events" && len(seg) <= 4:
		if method != http.MethodGet {
			methodNotAllowed(w)
			return
		}
		token := ""
		if len(seg) == 4 {
			token = seg[3]
		}
		s.handleEvents(w, r, seg[1], token)
	case seg[0] == "v3" && (len(seg) == 3 || len(seg) == 4):
		list, ok := parseList(seg[2])
		if !ok {
			notFound(w)
			return
		}
		addr := ""
		if len(seg) == 4 {
			addr = seg[3]
		}
		s.handleSuppressions(w, r, seg[1], list, addr)
	default:
		notFound(w)
	}
}

// segments splits the escaped path and unescapes each part, so that an
// escaped slash inside an address stays in its segment.
func segments(u *url.URL) ([]string, bool) {
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i, p := range parts {
		v, err := url.PathUnescape(p)
		if err != nil || v == "" {
			return nil, false
		}
		parts[i] = v
	}
	return parts, true
}
