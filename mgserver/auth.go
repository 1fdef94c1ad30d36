package mgserver

import (
	"crypto/subtle"
	"net/http"
)

// authorized checks HTTP Basic auth as Mailgun does: user "api", the API
// key as password. A failure is answered 401 with the body "Forbidden".
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || user != "api" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.APIKey)) == 1
}
