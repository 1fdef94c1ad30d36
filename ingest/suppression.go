package ingest

import (
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// errNoSendingDomain is returned for suppression entries whose sending domain
// is named neither by the input nor by --sending-domain.
var errNoSendingDomain = errors.New("suppression entry without a sending domain: pass --sending-domain")

// apiMessageRE finds the "message" of an API response body.
var apiMessageRE = regexp.MustCompile(`"message"\s*:\s*"`)

// suppression normalises one suppression-list entry from a JSON body.
func (n *normalizer) suppression(w *wire, raw []byte, page container, at loc, out *Batch) {
	if w.CreatedAt == "" && w.CreatedAC == "" && len(w.Code) == 0 && w.Error == "" && len(w.Tags) == 0 &&
		len(w.LegacyTag) == 0 && apiMessageRE.Match(raw) {
		// {"message":"Bounced address has been removed","address":...}
		out.reject(at, "not a suppression entry but an API response message", raw)
		return
	}
	s := maildiag.Suppression{
		SendingDomain: page.domain,
		List:          page.list,
		Address:       strings.ToLower(strings.TrimSpace(w.Address)),
		Code:          strings.TrimSpace(flexString(w.Code)),
		Error:         w.Error,
		Reason:        w.Reason,
		Raw:           raw,
	}
	if d := domainField(w.Domain); d != "" {
		s.SendingDomain = d
	}
	if s.SendingDomain == "" {
		s.SendingDomain = n.sendingDomain
	}
	created := w.CreatedAt
	switch {
	case w.Value != "" && w.Address == "":
		s.List, s.Kind, s.Address, created = maildiag.ListAllowlist, strings.ToLower(w.Type), strings.ToLower(strings.TrimSpace(w.Value)), w.CreatedAC
		if s.Kind == "" {
			s.Kind = "address"
		}
	case s.List != "":
	case s.Code != "" || s.Error != "":
		s.List = maildiag.ListBounces
	case len(w.Tags) > 0 || len(w.LegacyTag) > 0:
		s.List = maildiag.ListUnsubscribes
	default:
		s.List = maildiag.ListComplaints
	}
	if s.List == maildiag.ListUnsubscribes {
		s.Tags = stringList(w.Tags)
		if s.Tags == nil {
			s.Tags = stringList(w.LegacyTag)
		}
	}
	if s.SendingDomain == "" {
		out.reject(at, errNoSendingDomain.Error(), raw)
		return
	}
	if err := finishSuppression(&s, created); err != nil {
		out.reject(at, err.Error(), raw)
		return
	}
	out.Shapes[ShapeSuppressionJSON]++
	out.Suppressions = append(out.Suppressions, s)
}

// finishSuppression checks the address and reads the creation time.
func finishSuppression(s *maildiag.Suppression, created string) error {
	if s.Address == "" {
		return errors.New("suppression entry without an address")
	}
	if s.Kind != "domain" && !strings.Contains(s.Address, "@") {
		return errors.New("suppression address has no @: " + quoteShort([]byte(s.Address)))
	}
	if created = strings.TrimSpace(created); created != "" {
		us, err := parseAnyTime(created)
		if err != nil {
			return err
		}
		s.CreatedUS = us
	}
	return nil
}

// rfc822Layouts are the date forms Mailgun's suppression lists use.
var rfc822Layouts = []string{
	"Mon, 02 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 02 Jan 2006 15:04:05 -0700",
	time.RFC1123Z,
}

// parseAnyTime reads an RFC 822 date, an ISO-8601 time or epoch seconds.
func parseAnyTime(s string) (int64, error) {
	for _, layout := range rfc822Layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMicro(), nil
		}
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:T ") {
		return parseEpoch([]byte(s))
	}
	return parseISOTime(s)
}
