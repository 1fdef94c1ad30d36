package mgserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// storedFor returns the message stored under key for domain if it is
// still kept at now.
func (s *Server) storedFor(domain, key string, now time.Time) (storedMessage, bool) {
	m, ok := s.acct.storedMessage(domain, key)
	if !ok {
		return m, false
	}
	if now.UnixMicro()-m.at > s.opts.StoredRetention.Microseconds() || m.at > now.UnixMicro() {
		return m, false
	}
	return m, true
}

// handleStoredMessage answers GET /v3/domains/{domain}/messages/{key}: the
// parsed message, or with Accept: message/rfc2822 its MIME text.
func (s *Server) handleStoredMessage(w http.ResponseWriter, r *http.Request, domain, key string) {
	m, ok := s.storedFor(domain, key, s.opts.Now())
	if !ok {
		writeMessage(w, http.StatusNotFound, "Message not found")
		return
	}
	recipients := strings.Join(m.recipients, ", ")
	if strings.Contains(r.Header.Get("Accept"), "message/rfc2822") {
		writeJSON(w, http.StatusOK, struct {
			Recipients string `json:"recipients"`
			Sender     string `json:"sender"`
			From       string `json:"from"`
			Subject    string `json:"subject"`
			BodyMime   string `json:"body-mime"`
		}{recipients, m.sender, m.from, m.subject, m.mime()})
		return
	}
	type attachment struct {
		Size        int    `json:"size"`
		URL         string `json:"url"`
		Name        string `json:"name"`
		ContentType string `json:"content-type"`
	}
	atts := []attachment{}
	base := s.baseURL(r) + "/v3/domains/" + m.domain + "/messages/" + m.key + "/attachments/"
	for i, a := range m.attachments {
		atts = append(atts, attachment{a.size, base + strconv.Itoa(i), a.name, a.contentType})
	}
	tag := ""
	if len(m.tags) > 0 {
		tag = m.tags[0]
	}
	plain := m.bodyPlain()
	html := m.bodyHTML()
	writeJSON(w, http.StatusOK, struct {
		ContentTransferEncoding string         `json:"Content-Transfer-Encoding"`
		ContentType             string         `json:"Content-Type"`
		FromHeader              string         `json:"From"`
		MessageID               string         `json:"Message-Id"`
		MimeVersion             string         `json:"Mime-Version"`
		SubjectHeader           string         `json:"Subject"`
		To                      string         `json:"To"`
		Tag                     string         `json:"X-Mailgun-Tag,omitempty"`
		Sender                  string         `json:"sender"`
		Recipients              string         `json:"recipients"`
		From                    string         `json:"from"`
		Subject                 string         `json:"subject"`
		BodyPlain               string         `json:"body-plain"`
		StrippedText            string         `json:"stripped-text"`
		StrippedSignature       string         `json:"stripped-signature"`
		BodyHTML                string         `json:"body-html"`
		StrippedHTML            string         `json:"stripped-html"`
		Attachments             []attachment   `json:"attachments"`
		ContentIDMap            map[string]any `json:"content-id-map"`
		MessageHeaders          [][2]string    `json:"message-headers"`
	}{
		"7bit", "multipart/alternative; boundary=\"" + m.boundary() + "\"", m.from, "<" + m.messageID + ">", "1.0",
		m.subject, m.to, tag, m.sender, recipients, m.from, m.subject,
		plain, strings.TrimSuffix(plain, "\r\n"), "", html, html, atts, map[string]any{}, m.headers(),
	})
}

// handleResend answers POST /v3/domains/{domain}/messages/{key}: Mailgun's
// resend of a stored message to the recipients in the to fields.
func (s *Server) handleResend(w http.ResponseWriter, r *http.Request, domain, key string) {
	now := s.opts.Now()
	m, ok := s.storedFor(domain, key, now)
	if !ok {
		writeMessage(w, http.StatusNotFound, "Message not found")
		return
	}
	form, err := formValues(r)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "read form: "+err.Error())
		return
	}
	var to []string
	for _, v := range form["to"] {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				to = append(to, a)
			}
		}
	}
	if len(to) == 0 {
		writeMessage(w, http.StatusBadRequest, "to parameter is missing")
		return
	}
	for _, a := range to {
		if err := checkAddress(strings.Trim(a[strings.LastIndexByte(a, '<')+1:], "<> ")); err != nil {
			writeMessage(w, http.StatusBadRequest, "to: "+err.Error())
			return
		}
	}
	sent := s.acct.resend(m, to, now)
	s.stats.resends.Add(1)
	writeJSON(w, http.StatusOK, map[string]string{"id": "<" + sent.NewMessageID + ">", "message": "Queued. Thank you."})
}
