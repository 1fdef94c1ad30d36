package mgserver

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"time"
)

// domainJSON is a domain as GET /v3/domains lists it (fields as recorded
// from the live API).
type domainJSON struct {
	CreatedAt                  string `json:"created_at"`
	ID                         string `json:"id"`
	IsDisabled                 bool   `json:"is_disabled"`
	Name                       string `json:"name"`
	RequireTLS                 bool   `json:"require_tls"`
	SkipVerification           bool   `json:"skip_verification"`
	SMTPLogin                  string `json:"smtp_login"`
	SpamAction                 string `json:"spam_action"`
	State                      string `json:"state"`
	Type                       string `json:"type"`
	UseAutomaticSenderSecurity bool   `json:"use_automatic_sender_security"`
	WebPrefix                  string `json:"web_prefix"`
	WebScheme                  string `json:"web_scheme"`
	Wildcard                   bool   `json:"wildcard"`
}

type dnsRecordJSON struct {
	IsActive   bool     `json:"is_active"`
	Cached     []string `json:"cached"`
	Name       string   `json:"name,omitempty"`
	Priority   string   `json:"priority,omitempty"`
	RecordType string   `json:"record_type"`
	Valid      string   `json:"valid"`
	Value      string   `json:"value"`
}

func (a *Account) domainJSON(d *domainData) domainJSON {
	h := fnv.New64a()
	h.Write([]byte(d.name))
	return domainJSON{
		CreatedAt: a.created.Add(time.Duration(d.idx) * 26 * time.Hour).UTC().Format(http.TimeFormat),
		ID:        fmt.Sprintf("%08x%016x", uint32(a.created.Unix()), h.Sum64()),
		Name:      d.name, SMTPLogin: "postmaster@" + d.name, SpamAction: "disabled",
		State: "active", Type: "custom", UseAutomaticSenderSecurity: true,
		WebPrefix: "email", WebScheme: "https",
	}
}

// handleDomains answers GET /v3/domains and /v4/domains (mailgun-go v5's ListDomains pages
// it with skip and limit, reading total_count and items).
func (s *Server) handleDomains(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	limit, skip := 100, 0
	var err error
	if l := v.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 1000 {
			writeMessage(w, http.StatusBadRequest, fmt.Sprintf("limit: %q, must be from 1 to 1000", l))
			return
		}
	}
	if sk := v.Get("skip"); sk != "" {
		if skip, err = strconv.Atoi(sk); err != nil || skip < 0 {
			writeMessage(w, http.StatusBadRequest, fmt.Sprintf("skip: %q, must be a non-negative integer", sk))
			return
		}
	}
	a := s.acct
	items := []domainJSON{}
	for i := skip; i < len(a.domains) && i < skip+limit; i++ {
		items = append(items, a.domainJSON(a.domains[i]))
	}
	s.stats.domainPage.Add(1)
	writeJSON(w, http.StatusOK, struct {
		TotalCount int          `json:"total_count"`
		Items      []domainJSON `json:"items"`
	}{len(a.domains), items})
}

// handleDomain answers GET /v3/domains/{name} with the domain and the DNS
// records Mailgun asks for.
func (s *Server) handleDomain(w http.ResponseWriter, r *http.Request, name string) {
	d := s.acct.domain(name)
	if d == nil {
		domainNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Domain    domainJSON      `json:"domain"`
		Receiving []dnsRecordJSON `json:"receiving_dns_records"`
		Sending   []dnsRecordJSON `json:"sending_dns_records"`
	}{
		Domain: s.acct.domainJSON(d),
		Receiving: []dnsRecordJSON{
			{IsActive: true, Cached: []string{}, Priority: "10", RecordType: "MX", Valid: "valid", Value: "mxa.mailgun.org"},
			{IsActive: true, Cached: []string{}, Priority: "10", RecordType: "MX", Valid: "valid", Value: "mxb.mailgun.org"},
		},
		Sending: []dnsRecordJSON{
			{IsActive: true, Cached: []string{}, Name: d.name, RecordType: "TXT", Valid: "valid", Value: "v=spf1 include:mailgun.org ~all"},
			{IsActive: true, Cached: []string{}, Name: "pdk1._domainkey." + d.name, RecordType: "TXT", Valid: "valid", Value: "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"},
			{IsActive: true, Cached: []string{}, Name: "email." + d.name, RecordType: "CNAME", Valid: "valid", Value: "mailgun.org"},
		},
	})
}
