package mgserver

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// storedMessage is a message Mailgun keeps for a few days after accepting
// it, found through the storage key its events carry.
type storedMessage struct {
	domain, key string
	at          int64 // first event naming the key, µs
	messageID   string
	from, to    string
	subject     string
	sender      string
	recipients  []string
	tags        []string
	attachments []storedAttachment
	size        int
}

type storedAttachment struct {
	name, contentType string
	size              int
}

// Send records one resend of a stored message.
type Send struct {
	Domain     string
	StorageKey string
	// MessageID is the stored message's Message-Id, NewMessageID the one
	// Mailgun gave the resent copy (without angle brackets).
	MessageID    string
	NewMessageID string
	To           []string
	At           time.Time
}

// Sends returns the resends so far, oldest first.
func (a *Account) Sends() []Send {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return append([]Send(nil), a.sends...)
}

// storedMessage returns a copy of the message stored under key for domain.
func (a *Account) storedMessage(domain, key string) (storedMessage, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	m := a.stored[key]
	if m == nil || m.domain != strings.ToLower(domain) {
		return storedMessage{}, false
	}
	return *m, true
}

// resend records a resend of m to recipients at time now and returns it.
func (a *Account) resend(m storedMessage, to []string, now time.Time) Send {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d", m.key, len(a.sends))
	s := Send{
		Domain: m.domain, StorageKey: m.key, MessageID: m.messageID,
		NewMessageID: fmt.Sprintf("%s.%d.%016X@%s", now.UTC().Format("20060102150405"), len(a.sends)+1, h.Sum64(), m.domain),
		To:           to, At: now,
	}
	a.sends = append(a.sends, s)
	return s
}

// bodyPlain is the text of a stored message. synth does not write bodies,
// so it is made from what the events say, the same every time.
func (m *storedMessage) bodyPlain() string {
	var b strings.Builder
	b.WriteString("Hello,\r\n\r\n")
	b.WriteString(m.subject)
	b.WriteString("\r\n\r\nThis message was sent to ")
	b.WriteString(strings.Join(m.recipients, ", "))
	b.WriteString(".\r\n\r\n-- \r\n")
	b.WriteString(m.from)
	b.WriteString("\r\n")
	return b.String()
}

func (m *storedMessage) bodyHTML() string {
	return "<html><body><p>Hello,</p><p>" + htmlEscape(m.subject) + "</p></body></html>"
}

// headers are the message's MIME headers in order.
func (m *storedMessage) headers() [][2]string {
	h := [][2]string{
		{"Mime-Version", "1.0"},
		{"Content-Type", "multipart/alternative; boundary=\"" + m.boundary() + "\""},
		{"Content-Transfer-Encoding", "7bit"},
		{"From", m.from},
		{"To", m.to},
		{"Subject", m.subject},
		{"Message-Id", "<" + m.messageID + ">"},
		{"Sender", m.sender},
	}
	for _, t := range m.tags {
		h = append(h, [2]string{"X-Mailgun-Tag", t})
	}
	return h
}

func (m *storedMessage) boundary() string {
	h := fnv.New64a()
	h.Write([]byte(m.key))
	return fmt.Sprintf("%016x", h.Sum64())
}

// mime renders the message as MIME text, for the raw (message/rfc2822)
// form of the stored-message API.
func (m *storedMessage) mime() string {
	var b strings.Builder
	for _, h := range m.headers() {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	bd := m.boundary()
	b.WriteString("\r\n--" + bd + "\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n\r\n")
	b.WriteString(m.bodyPlain())
	b.WriteString("\r\n--" + bd + "\r\nContent-Type: text/html; charset=\"utf-8\"\r\n\r\n")
	b.WriteString(m.bodyHTML())
	b.WriteString("\r\n--" + bd + "--\r\n")
	return b.String()
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
