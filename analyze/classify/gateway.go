package classify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/maildiag/maildiag"
)

// detectGateway names who receives mail for a recipient (Gmail, Microsoft
// 365, Mimecast, Proofpoint, ...) from the MX host Mailgun talked to,
// Mailgun's recipient-provider field, the recipient's domain and the
// reply, in the order gateways.txt gives. It returns "" when none of them
// tells.
func detectGateway(mxHost, provider, reply, recipientDomain string) string {
	rh := replyHits{reply: reply}
	return loaded().gateway(mxHost, provider, recipientDomain, &rh)
}

// providerName is the gateway name that stands for the provider field.
const providerName = "$provider"

// gatewayEntry is one compiled line of gateways.txt.
type gatewayEntry struct {
	id, name  string
	line      int
	mx        []hostPattern
	providers []string // lower-case; "*" is any non-empty value
	domains   []string // lower-case; looked up through tables.domainEntries
	texts     [][]uint16
}

// hostPattern matches a host name and its subdomains (looked up through
// tables.mxSuffix), or with glob set a whole host name where * matches any
// run of characters.
type hostPattern struct {
	pat  string
	glob bool
}

// replyHits scans a reply for text patterns once, when first needed.
type replyHits struct {
	reply string
	hits  hitSet
	done  bool
}

func (r *replyHits) get(m *matcher) *hitSet {
	if !r.done {
		m.scan(r.reply, &r.hits)
		r.done = true
	}
	return &r.hits
}

// gateway returns the name of the first entry that matches, or "".
func (t *tables) gateway(mxHost, provider, domain string, rh *replyHits) string {
	i := t.gatewayEntry(mxHost, provider, domain, rh)
	if i < 0 {
		return ""
	}
	if name := t.gateways[i].name; name != providerName {
		return name
	}
	return strings.TrimSpace(provider)
}

func (t *tables) gatewayEntry(mxHost, provider, domain string, rh *replyHits) int {
	host := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(mxHost)), ".")
	provider = strings.TrimSpace(provider)
	named := t.domainEntries[strings.ToLower(strings.TrimSpace(domain))]
	// Entries whose mx condition holds: the host and each parent domain
	// are looked up once, instead of every pattern tried in turn.
	var mxOK entrySet
	if host != "" {
		for s := host; ; {
			for _, i := range t.mxSuffix[s] {
				mxOK.set(i)
			}
			j := strings.IndexByte(s, '.')
			if j < 0 {
				break
			}
			s = s[j+1:]
		}
		for _, i := range t.mxGlob {
			for _, p := range t.gateways[i].mx {
				if p.glob && maildiag.MatchGlob(p.pat, host) {
					mxOK.set(i)
				}
			}
		}
	}
next:
	for i := range t.gateways {
		g := &t.gateways[i]
		if g.mx != nil && !mxOK.has(i) {
			continue
		}
		if g.providers != nil {
			if provider == "" {
				continue
			}
			ok := false
			for _, p := range g.providers {
				if p == "*" || strings.EqualFold(p, provider) {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
		}
		if g.domains != nil {
			ok := false
			for _, e := range named {
				if e == i {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
		}
		if g.texts != nil {
			if rh.reply == "" {
				continue
			}
			h := rh.get(t.match)
			for _, set := range g.texts {
				if !h.any(set) {
					continue next
				}
			}
		}
		return i
	}
	return -1
}

func parseGateways(data string, pt *patterns) ([]gatewayEntry, error) {
	var out []gatewayEntry
	err := eachDataLine(data, "entry", func(no int, _ string, fs []string) (string, error) {
		g, err := parseGateway(fs, pt)
		if err != nil {
			return "", err
		}
		g.line = no
		out = append(out, g)
		return g.id, nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) > maxGateways {
		return nil, fmt.Errorf("%d: more than %d entries", out[maxGateways].line, maxGateways)
	}
	return out, nil
}

// parseGateway compiles one line of gateways.txt.
func parseGateway(fs []string, pt *patterns) (gatewayEntry, error) {
	g := gatewayEntry{id: fs[0]}
	if !validID(g.id) {
		return g, errors.New("id must be lower-case letters, digits and dashes")
	}
	if len(fs) < 2 || strings.TrimSpace(fs[1]) == "" {
		return g, errors.New("no gateway name")
	}
	g.name = fs[1]
	if len(fs) == 2 {
		return g, errors.New("no conditions")
	}
	used, err := eachCondition(fs[2:], func(key, value string, alts []string) error {
		switch key {
		case "mx":
			for _, a := range alts {
				a = strings.TrimSuffix(strings.ToLower(a), ".")
				g.mx = append(g.mx, hostPattern{pat: a, glob: strings.Contains(a, "*")})
			}
		case "provider":
			for _, a := range alts {
				g.providers = append(g.providers, strings.ToLower(a))
			}
		case "domain":
			for _, a := range alts {
				g.domains = append(g.domains, strings.ToLower(a))
			}
		case "text":
			ids, err := pt.intern(alts)
			if err != nil {
				return fmt.Errorf("text: %w", err)
			}
			g.texts = append(g.texts, ids)
		default:
			return fmt.Errorf("unknown condition %q", key)
		}
		return nil
	})
	if err != nil {
		return g, err
	}
	if g.name == providerName && (len(g.providers) != 1 || g.providers[0] != "*" || len(used) != 1) {
		return g, fmt.Errorf("%s is only for an entry whose one condition is provider=*", providerName)
	}
	return g, nil
}

// maxGateways bounds the entries of gateways.txt, for entrySet.
const maxGateways = 256

// entrySet is a set of gateway entries.
type entrySet [maxGateways / 64]uint64

func (s *entrySet) set(i int)      { s[i>>6] |= 1 << (i & 63) }
func (s *entrySet) has(i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }

// mxIndex maps each host pattern without a * to the entries that name it,
// and lists the entries with glob patterns.
func mxIndex(gs []gatewayEntry) (map[string][]int, []int) {
	m := make(map[string][]int)
	var globs []int
	for i, g := range gs {
		glob := false
		for _, p := range g.mx {
			if p.glob {
				glob = true
				continue
			}
			if l := m[p.pat]; len(l) == 0 || l[len(l)-1] != i {
				m[p.pat] = append(l, i)
			}
		}
		if glob {
			globs = append(globs, i)
		}
	}
	return m, globs
}

// domainIndex maps each recipient domain to the entries that name it, so
// that a domain condition costs one map lookup per detection.
func domainIndex(gs []gatewayEntry) map[string][]int {
	m := make(map[string][]int)
	for i, g := range gs {
		for _, d := range g.domains {
			m[d] = append(m[d], i)
		}
	}
	return m
}
