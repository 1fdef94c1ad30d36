package synth

import (
	"strconv"
	"strings"
)

// expand fills a reply template (see the codes above gatewayReplies) for a
// message at time at, into slabs a. Queue ids and references are fresh on
// every call, as a server's are on every session.
func (g *generator) expand(a *slabs, t string, c *msgCtx, at int64) string {
	if strings.IndexByte(t, '$') < 0 {
		return t
	}
	r, m := c.r, c.m
	b := g.scratch[:0]
	for i := 0; i < len(t); i++ {
		ch := t[i]
		if ch != '$' || i+1 == len(t) {
			b = append(b, ch)
			continue
		}
		i++
		switch t[i] {
		case 'A':
			b = append(b, m.Recipient...)
		case 'D':
			b = append(b, m.RecipientDomain...)
		case 'S':
			b = append(b, m.SendingDomain...)
		case 'B':
			b = append(b, c.s.site...)
		case 'I':
			b = append(b, m.SendingIP...)
		case 'T':
			b = strconv.AppendInt(b, at/1e6, 10)
		case 'G':
			b = appendGoogleQueueID(b, r)
		case 'M':
			b = appendMicrosoftHost(b, r)
		case 'Z':
			b = appendISO(b, at, 3)
		case 'X':
			b = r.appendHex(b, 16, hexUpper)
		case 'N':
			b = append(b, byte('1'+r.intn(9)))
			b = r.appendDigits(b, 13)
		case 'R':
			b = r.appendB64(b, 22)
			b = append(b, '.')
			b = append(b, []string{"uk", "eu", "us", "de"}[r.intn(4)]...)
			b = strconv.AppendInt(b, int64(1+r.intn(600)), 10)
		case 'Q':
			b = r.appendHex(b, 11, hexUpper)
		case 'P':
			b = append(b, byte('3'+r.intn(2)))
			b = appendAlnum(b, r, 9)
			b = append(b, '-', '1')
		case 'K':
			b = append(b, m.ID...)
		case 'E':
			b = strconv.AppendInt(b, int64(m.Size), 10)
		case 'L':
			b = append(b, '0', '.')
			b = r.appendDigits(b, 3)
			b = append(b, ',', ' ')
			b = strconv.AppendInt(b, int64(40+r.intn(900)), 10)
			b = append(b, '.')
			b = r.appendDigits(b, 3)
		case 'Y':
			b = append(b, "mta"...)
			b = strconv.AppendInt(b, int64(1000+r.intn(9000)), 10)
			b = append(b, []string{".mail.gq1.yahoo.com", ".mail.bf1.yahoo.com", ".mail.ne1.yahoo.com"}[r.intn(3)]...)
		default:
			b = append(b, '$', t[i])
		}
	}
	g.scratch = b
	return a.str(b)
}

// appendGoogleQueueID appends a Google SMTP queue id in its current form
// (d75a77b69052e-4b639dd586bsi7418741cf.389) or the older one
// (a1b2c3d4e5f6si123456qtw.45).
func appendGoogleQueueID(b []byte, r *rng) []byte {
	if r.intn(10) < 7 {
		b = r.appendHex(b, 13, hexLower)
		b = append(b, '-')
		b = r.appendHex(b, 11, hexLower)
		b = append(b, 's', 'i')
		b = r.appendDigits(b, 7)
		b = r.appendLetters(b, 2)
		b = append(b, '.')
		return strconv.AppendInt(b, int64(1+r.intn(499)), 10)
	}
	b = appendAlnum(b, r, 12)
	b = append(b, 's', 'i')
	b = r.appendDigits(b, 6+r.intn(2))
	b = r.appendLetters(b, 3)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(1+r.intn(99)), 10)
}

var msPrefixes = []string{"AM", "DB", "VI", "PA", "HE", "BN", "CO", "DM", "SN", "CH", "MW", "SJ"}

// appendMicrosoftHost appends an Exchange Online server name such as
// AM9PR07MB7891.eurprd07.prod.outlook.com or
// BN8NAM12FT045.eop-nam12.prod.protection.outlook.com.
func appendMicrosoftHost(b []byte, r *rng) []byte {
	p := r.intn(len(msPrefixes))
	eur := p < 5
	b = append(b, msPrefixes[p]...)
	b = append(b, byte('1'+r.intn(9)))
	var rb [2]byte
	region := append2(rb[:0], 1+r.intn(15))
	if r.intn(2) == 0 {
		b = append(b, "PR"...)
		b = append(b, region...)
		b = append(b, "MB"...)
		b = r.appendDigits(b, 4)
		if eur {
			b = append(b, ".eurprd"...)
		} else {
			b = append(b, ".namprd"...)
		}
		b = append(b, region...)
		return append(b, ".prod.outlook.com"...)
	}
	if eur {
		b = append(b, "EUR"...)
	} else {
		b = append(b, "NAM"...)
	}
	b = append(b, region...)
	b = append(b, "FT"...)
	b = r.appendDigits(b, 3)
	if eur {
		b = append(b, ".eop-EUR"...)
	} else {
		b = append(b, ".eop-nam"...)
	}
	b = append(b, region...)
	return append(b, ".prod.protection.outlook.com"...)
}

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func appendAlnum(b []byte, r *rng, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, alnum[r.intn(len(alnum))])
	}
	return b
}
