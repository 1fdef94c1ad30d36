package synth

import "encoding/base64"

// writeEventsPage writes an Events API page with Mailgun-like opaque
// paging URLs (base64 of the query state, as the real ones are).
func (rd *renderer) writeEventsPage(p *page, empty bool) {
	cw := rd.cw
	cw.buf = append(cw.buf, `{"items":[`...)
	if !empty {
		cw.buf = append(cw.buf, p.items...)
	}
	cw.buf = append(cw.buf, `],"paging":{"previous":"`...)
	cw.buf = rd.appendPageURL(cw.buf, p, "p")
	cw.buf = append(cw.buf, `","first":"`...)
	cw.buf = rd.appendPageURL(cw.buf, p, "f0")
	cw.buf = append(cw.buf, `","next":"`...)
	cw.buf = rd.appendPageURL(cw.buf, p, "f")
	cw.buf = append(cw.buf, `","last":"`...)
	cw.buf = rd.appendPageURL(cw.buf, p, "l")
	cw.buf = append(cw.buf, "\"}}\n"...)
	p.items, p.n = p.items[:0], 0
}

func (rd *renderer) appendPageURL(dst []byte, p *page, dir string) []byte {
	start, end := rd.cfg.End.UnixMicro()-int64(rd.cfg.Days)*dayUS, rd.cfg.End.UnixMicro()
	pivot := p.last
	if pivot == 0 {
		pivot = start
	}
	var q []byte
	q = append(q, `[{"b": "`...)
	q = appendOffsetISO(q, start)
	q = append(q, `", "e": "`...)
	q = appendOffsetISO(q, end)
	q = append(q, `"}, {"b": "`...)
	q = appendOffsetISO(q, pivot)
	q = append(q, `", "e": "`...)
	q = appendOffsetISO(q, end)
	q = append(q, `"}, [`...)
	switch dir {
	case "p":
		q = append(q, `"p", "f"`...)
	case "l":
		q = append(q, `"p", "f"`...)
	default:
		q = append(q, `"f"`...)
	}
	q = append(q, `], null, [["account.id", "`...)
	q = append(q, rd.cfg.AccountID...)
	q = append(q, `"], ["domain.name", "`...)
	q = append(q, p.domain...)
	q = append(q, `"]], 300, `...)
	if dir == "f" && p.n > 0 {
		q = append(q, `"message#`...)
		q = append(q, p.lastID[:]...)
		q = append(q, '"')
	} else {
		q = append(q, "null"...)
	}
	q = append(q, ']')
	dst = append(dst, "https://api.mailgun.net/v3/"...)
	dst = append(dst, p.domain...)
	dst = append(dst, "/events/"...)
	return base64.StdEncoding.AppendEncode(dst, q)
}

// appendOffsetISO writes 2026-11-15T09:30:12.123+00:00, the form inside
// Mailgun's page tokens.
func appendOffsetISO(dst []byte, us int64) []byte {
	dst = appendISO(dst, us, 3)
	return append(dst[:len(dst)-1], "+00:00"...)
}

// writeLogsPage writes a Logs API response; the last page has an empty
// pagination object, as Mailgun's does.
func (rd *renderer) writeLogsPage(p *page, last bool) {
	cw := rd.cw
	start, end := rd.cfg.End.UnixMicro()-int64(rd.cfg.Days)*dayUS, rd.cfg.End.UnixMicro()
	cw.buf = append(cw.buf, `{"start":"`...)
	cw.buf = utcMicro(start).AppendFormat(cw.buf, rfc2822Layout)
	cw.buf = append(cw.buf, `","end":"`...)
	cw.buf = utcMicro(end).AppendFormat(cw.buf, rfc2822Layout)
	cw.buf = append(cw.buf, `","items":[`...)
	cw.buf = append(cw.buf, p.items...)
	cw.buf = append(cw.buf, `],"pagination":{`...)
	if !last {
		cw.buf = append(cw.buf, `"next":"`...)
		cw.buf = rd.r.appendB64(cw.buf, 48)
		cw.buf = append(cw.buf, '"')
	}
	cw.buf = append(cw.buf, "},\"aggregates\":{}}\n"...)
	p.items, p.n = p.items[:0], 0
}
