package synth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
)

// appendWebhook appends the event as a webhook payload:
// {"signature":{"token","timestamp","signature"},"event-data":{...}}, signed
// with the signer's key the way Mailgun signs (HMAC-SHA256 of
// timestamp+token). The token derives from the event, so output stays
// deterministic.
func (e *Event) appendWebhook(dst []byte, sg *signer) []byte {
	var tb [50]byte
	token := e.appendToken(tb[:0])
	var sb [20]byte
	ts := strconv.AppendInt(sb[:0], e.Time/1e6, 10)
	dst = append(dst, `{"signature":{"token":"`...)
	dst = append(dst, token...)
	dst = append(dst, `","timestamp":"`...)
	dst = append(dst, ts...)
	dst = append(dst, `","signature":"`...)
	dst = sg.append(dst, ts, token)
	dst = append(dst, `"},"event-data":`...)
	dst = e.AppendEventsJSON(dst)
	return append(dst, '}')
}

// appendToken appends a 50-hex-digit token derived from the event.
func (e *Event) appendToken(dst []byte) []byte {
	r := rng{s: hashString(uint64(e.Time), e.ID)}
	return r.appendHex(dst, 50, hexLower)
}

// signer signs webhooks with one key, reusing its HMAC state.
type signer struct {
	key string
	mac hash.Hash
}

// append appends hex(HMAC-SHA256(key, timestamp+token)).
func (s *signer) append(dst, ts, token []byte) []byte {
	if s.mac == nil {
		s.mac = hmac.New(sha256.New, []byte(s.key))
	} else {
		s.mac.Reset()
	}
	s.mac.Write(ts)
	s.mac.Write(token)
	var sum [sha256.Size]byte
	return hex.AppendEncode(dst, s.mac.Sum(sum[:0]))
}

// appendLegacy appends the event as a legacy (pre-2018) webhook: flat
// string fields, as the form-encoded payloads were. It reports false, and
// appends nothing, for events legacy webhooks did not send (accepted,
// temporary failures, rejected, stored, list events).
func (e *Event) appendLegacy(dst []byte, sg *signer) ([]byte, bool) {
	m := e.Msg
	var event, code, desc, reason, errText string
	switch e.Type {
	case Delivered, Opened, Clicked, Unsubscribed, Complained:
		event = e.Type
	case Failed:
		st := e.Status
		if st.Severity != Permanent {
			return dst, false
		}
		switch st.Reason {
		case ReasonSuppressBounce, ReasonSuppressComplaint, ReasonSuppressUnsubscribe:
			event, reason, code, desc = "dropped", "hardfail", strconv.Itoa(st.Code), st.Description
		case ReasonOld:
			event, reason, code, desc = "dropped", "old", strconv.Itoa(st.LastCode), st.LastMessage
		default:
			if st.Code >= 600 {
				event, reason, code, desc = "dropped", "hardfail", strconv.Itoa(st.Code), st.Description
			} else {
				event, code, errText, desc = "bounced", strconv.Itoa(st.Code), st.Message, st.Description
			}
		}
	default:
		return dst, false
	}
	var tb [50]byte
	token := e.appendToken(tb[:0])
	var sb [20]byte
	ts := strconv.AppendInt(sb[:0], e.Time/1e6, 10)
	dst = append(dst, `{"event":"`...)
	dst = append(dst, event...)
	dst = append(dst, '"')
	dst = appendKeyString(dst, "recipient", m.Recipient)
	dst = appendKeyString(dst, "domain", m.SendingDomain)
	dst = append(dst, `,"Message-Id":"<`...)
	dst = appendStringBody(dst, m.ID)
	dst = append(dst, `>"`...)
	if code != "" {
		dst = appendKeyString(dst, "code", code)
	}
	if errText != "" {
		dst = appendKeyString(dst, "error", errText)
	}
	if event == "bounced" || event == "dropped" {
		dst = appendKeyString(dst, "description", desc)
	}
	if reason != "" {
		dst = appendKeyString(dst, "reason", reason)
	}
	switch e.Type {
	case Opened, Clicked, Unsubscribed:
		g := e.Engagement
		dst = appendKeyString(dst, "ip", g.IP)
		dst = appendKeyString(dst, "country", g.Geo.Country)
		dst = appendKeyString(dst, "region", g.Geo.Region)
		dst = appendKeyString(dst, "city", g.Geo.City)
		dst = appendKeyString(dst, "user-agent", g.Client.UserAgent)
		dst = appendKeyString(dst, "device-type", g.Client.DeviceType)
		dst = appendKeyString(dst, "client-type", g.Client.Type)
		dst = appendKeyString(dst, "client-name", g.Client.Name)
		dst = appendKeyString(dst, "client-os", g.Client.OS)
		if e.Type == Clicked {
			dst = appendKeyString(dst, "url", g.URL)
		}
		if len(m.Tags) > 0 {
			dst = appendKeyString(dst, "tag", m.Tags[0])
		}
	default:
		var hb [512]byte
		dst = appendKeyString(dst, "message-headers", string(appendLegacyHeaders(hb[:0], m)))
	}
	dst = append(dst, `,"timestamp":"`...)
	dst = append(dst, ts...)
	dst = append(dst, `","token":"`...)
	dst = append(dst, token...)
	dst = append(dst, `","signature":"`...)
	dst = sg.append(dst, ts, token)
	return append(dst, `"}`...), true
}

// appendLegacyHeaders renders the message-headers field: a JSON list of
// [name, value] pairs, itself sent as a string.
func appendLegacyHeaders(dst []byte, m *Message) []byte {
	dst = append(dst, `[["Mime-Version", "1.0"], ["Content-Type", "multipart/alternative"], ["Subject", `...)
	dst = appendString(dst, m.Subject)
	dst = append(dst, `], ["From", `...)
	dst = appendString(dst, m.From)
	dst = append(dst, `], ["To", `...)
	dst = appendString(dst, m.To)
	dst = append(dst, `], ["Message-Id", "<`...)
	dst = appendStringBody(dst, m.ID)
	return append(dst, `>"]]`...)
}
