package ingest

import (
	stdjson "encoding/json"
	"strconv"
	"strings"

	"github.com/maildiag/maildiag"
)

// isLegacy tells a pre-2018 flat webhook from an Events API item: legacy
// payloads carry the timestamp as a string, use the event names "dropped" and
// "bounced", or carry Message-Id and message-headers at the top level.
func isLegacy(w *wire) bool {
	switch strings.ToLower(w.Event) {
	case "dropped", "bounced":
		return true
	}
	if w.LegacyMsgID != "" || w.MessageHeaders != "" {
		return true
	}
	// An Events API item whose exporter wrote the timestamp as a string is
	// still an Events API item: legacy payloads have no nested objects.
	if len(w.Status.Code) > 0 || w.Status.Message != "" || w.Status.Description != "" ||
		w.Message.Headers.MessageID != "" || w.Envelope.Sender != "" || w.Envelope.Targets != "" {
		return false
	}
	return len(w.Timestamp) > 0 && w.Timestamp[0] == '"' && w.AtTimestamp == ""
}

// eventFromLegacy normalises a legacy flat webhook (form fields as JSON).
func (n *normalizer) eventFromLegacy(w *wire, raw []byte, ev *maildiag.Event) error {
	*ev = maildiag.Event{
		Type:        strings.ToLower(w.Event),
		ID:          w.ID,
		Recipient:   strings.ToLower(strings.TrimSpace(w.Recipient)),
		Reason:      w.Reason,
		Reply:       w.Error,
		Description: w.Description,
		MessageID:   trimAngle(w.LegacyMsgID),
		Raw:         raw,
	}
	t, err := parseEpoch(w.Timestamp)
	if err != nil {
		return err
	}
	ev.TimeUS = t
	code := strings.TrimSpace(flexString(w.Code))
	if strings.Contains(code, ".") {
		ev.EnhancedCode = code // legacy "bounced" puts the enhanced code here
	} else if c, err := strconv.Atoi(code); err == nil {
		ev.Code = c
	}
	switch ev.Type {
	case "dropped":
		// Legacy drops give Mailgun's code; today's events its reason.
		ev.Type, ev.Severity = maildiag.Failed, maildiag.SeverityPermanent
		if d, ok := maildiag.DropOfCode(ev.Code); ok && d.Reason != "" {
			ev.Reason = d.Reason
		}
	case "bounced":
		ev.Type, ev.Severity, ev.Reason = maildiag.Failed, maildiag.SeverityPermanent, maildiag.ReasonBounce
	}
	if ev.Description == "" && ev.Code >= 600 {
		ev.Description = ev.Reply
	}
	ev.Subject, ev.From = legacyHeaders(w.MessageHeaders)
	ev.Tags = stringList(w.LegacyTag)
	ev.SendingDomain = n.sendingDomainOf(w.Domain, ev, "")
	n.finish(ev)
	return nil
}

// legacyHeaders reads subject and from out of the legacy message-headers
// field: a JSON string holding [[name, value], ...].
func legacyHeaders(s string) (subject, from string) {
	if s == "" {
		return "", ""
	}
	var pairs [][]string
	if stdjson.Unmarshal([]byte(s), &pairs) != nil {
		return "", ""
	}
	for _, p := range pairs {
		if len(p) != 2 {
			continue
		}
		switch strings.ToLower(p[0]) {
		case "subject":
			subject = p[1]
		case "from":
			from = p[1]
		}
	}
	return subject, from
}
