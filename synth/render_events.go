package synth

import "strconv"

// shape selects between the Events API (and webhook) object and the Logs
// API object, which share most parts.
type shape uint8

const (
	shapeEvents shape = iota
	shapeLogs
)

// AppendEventsJSON appends the event as an Events API item (the object a
// webhook carries as event-data), without a newline.
func (e *Event) AppendEventsJSON(dst []byte) []byte {
	return e.appendObject(dst, shapeEvents, "")
}

// appendObject renders the event; account is the Logs API account id.
func (e *Event) appendObject(dst []byte, sh shape, account string) []byte {
	m := e.Msg
	dst = append(dst, `{"event":"`...)
	dst = append(dst, e.Type...)
	dst = append(dst, `","id":"`...)
	dst = append(dst, e.ID...)
	if sh == shapeLogs {
		dst = append(dst, `","@timestamp":"`...)
		dst = appendISO(dst, e.Time, 3)
		dst = append(dst, `","account":{"id":"`...)
		dst = append(dst, account...)
		dst = append(dst, `"},"domain":{"name":"`...)
		dst = append(dst, m.SendingDomain...)
		dst = append(dst, `"}`...)
	} else {
		dst = append(dst, `","timestamp":`...)
		dst = appendEpoch(dst, e.Time)
	}
	dst = append(dst, `,"log-level":"`...)
	dst = append(dst, e.LogLevel()...)
	dst = append(dst, '"')
	switch e.Type {
	case Accepted:
		dst = append(dst, `,"method":"`...)
		dst = append(dst, m.Method...)
		dst = append(dst, '"')
		if sh == shapeLogs {
			dst = append(dst, `,"originating-ip":"192.0.2.`...)
			dst = strconv.AppendInt(dst, int64(200+m.sender%50), 10)
			dst = append(dst, '"')
		}
		dst = appendEnvelope(dst, m, false)
		dst = appendFlags(dst, sh)
		dst = appendMessage(dst, m, true)
		dst = appendRecipient(dst, m)
		dst = appendStorage(dst, m, sh)
		dst = appendTail(dst, m, sh)
	case Delivered, Failed:
		st := e.Status
		if e.Type == Failed {
			dst = append(dst, `,"severity":"`...)
			dst = append(dst, st.Severity...)
			dst = append(dst, `","reason":"`...)
			dst = append(dst, st.Reason...)
			dst = append(dst, '"')
		}
		if st.DelayedBounce {
			dst = append(dst, `,"envelope":{},"flags":{"is-delayed-bounce":true}`...)
		} else {
			// Drops and expiries had no session, so no sending IP.
			dst = appendEnvelope(dst, m, st.Code < 600 || st.Code == 680)
			dst = appendFlags(dst, sh)
		}
		dst = appendStatus(dst, st, sh)
		dst = appendMessage(dst, m, false)
		dst = appendRecipient(dst, m)
		if st.MXHost != "" {
			dst = append(dst, `,"primary-dkim":"pdk1._domainkey.`...)
			dst = append(dst, m.SendingDomain...)
			dst = append(dst, '"')
		}
		dst = appendStorage(dst, m, sh)
		dst = appendTail(dst, m, sh)
	case Opened, Clicked, Unsubscribed:
		g := e.Engagement
		dst = appendRecipient(dst, m)
		dst = append(dst, `,"geolocation":{"country":`...)
		dst = appendString(dst, g.Geo.Country)
		dst = appendKeyString(dst, "region", g.Geo.Region)
		dst = appendKeyString(dst, "city", g.Geo.City)
		dst = append(dst, '}')
		if e.Type == Clicked {
			dst = appendKeyString(dst, "url", g.URL)
		}
		dst = appendTail(dst, m, sh)
		dst = appendKeyString(dst, "ip", g.IP)
		dst = appendClient(dst, g.Client)
		dst = append(dst, `,"message":{"headers":{"message-id":`...)
		dst = appendString(dst, m.ID)
		dst = append(dst, `}}`...)
	case Complained:
		dst = appendRecipient(dst, m)
		dst = append(dst, `,"envelope":{"sending-ip":"`...)
		dst = append(dst, m.SendingIP...)
		dst = append(dst, `"},"flags":{"is-test-mode":false}`...)
		dst = appendMessage(dst, m, false)
		dst = appendTail(dst, m, sh)
	case Rejected:
		dst = append(dst, `,"flags":{"is-test-mode":false},"reject":{"reason":`...)
		dst = appendString(dst, e.Reject.Reason)
		dst = appendKeyString(dst, "description", e.Reject.Description)
		dst = append(dst, '}')
		dst = appendMessage(dst, m, false)
		dst = appendTail(dst, m, sh)
	case Stored:
		dst = append(dst, `,"flags":{"is-test-mode":false}`...)
		dst = appendMessage(dst, m, true)
		dst = appendStorage(dst, m, sh)
		dst = appendTail(dst, m, sh)
	case ListMemberUploaded:
		o := e.Other
		dst = append(dst, `,"task-id":"`...)
		dst = append(dst, o.TaskID...)
		dst = append(dst, `","mailing-list":{"address":`...)
		dst = appendString(dst, o.ListAddress)
		dst = append(dst, `},"member":{"name":"","subscribed":true,"address":`...)
		dst = appendString(dst, o.MemberAddress)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendEnvelope(dst []byte, m *Message, withIP bool) []byte {
	dst = append(dst, `,"envelope":{"transport":"smtp","sender":`...)
	dst = appendString(dst, m.Sender)
	if withIP {
		dst = append(dst, `,"sending-ip":"`...)
		dst = append(dst, m.SendingIP...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"targets":`...)
	dst = appendString(dst, m.Recipient)
	return append(dst, '}')
}

func appendFlags(dst []byte, sh shape) []byte {
	if sh == shapeLogs {
		return append(dst, `,"flags":{"is-authenticated":true,"is-system-test":false,"is-routed":false,"is-test-mode":false,"is-delayed-bounce":false,"is-callback":false}`...)
	}
	return append(dst, `,"flags":{"is-routed":false,"is-authenticated":true,"is-system-test":false,"is-test-mode":false}`...)
}

// appendMessage renders the message object; accepted and stored events
// also list the recipients.
func appendMessage(dst []byte, m *Message, recipients bool) []byte {
	dst = append(dst, `,"message":{"headers":{"to":`...)
	dst = appendString(dst, m.To)
	dst = append(dst, `,"message-id":`...)
	dst = appendString(dst, m.ID)
	dst = append(dst, `,"from":`...)
	dst = appendString(dst, m.From)
	dst = append(dst, `,"subject":`...)
	dst = appendString(dst, m.Subject)
	dst = append(dst, `},"attachments":[`...)
	for i, a := range m.Attachments {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"filename":`...)
		dst = appendString(dst, a.Filename)
		dst = appendKeyString(dst, "content-type", a.ContentType)
		dst = appendKeyInt(dst, "size", int64(a.Size))
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if recipients {
		dst = append(dst, `,"recipients":[`...)
		if m.Recipient != "" {
			dst = appendString(dst, m.Recipient)
		} else {
			dst = appendString(dst, m.To)
		}
		dst = append(dst, ']')
	}
	dst = appendKeyInt(dst, "size", int64(m.Size))
	return append(dst, '}')
}

func appendRecipient(dst []byte, m *Message) []byte {
	if m.Recipient == "" {
		return dst
	}
	dst = append(dst, `,"recipient":`...)
	dst = appendString(dst, m.Recipient)
	dst = append(dst, `,"recipient-domain":`...)
	dst = appendString(dst, m.RecipientDomain)
	if m.Provider != "" {
		dst = append(dst, `,"recipient-provider":"`...)
		dst = append(dst, m.Provider...)
		dst = append(dst, '"')
	}
	return dst
}

func appendStorage(dst []byte, m *Message, sh shape) []byte {
	if sh == shapeLogs {
		dst = append(dst, `,"storage":{"region":"us-east4","env":"production","key":"`...)
		dst = append(dst, m.StorageKey...)
		dst = append(dst, `","url":["`...)
		dst = m.appendStorageURL(dst)
		return append(dst, `"]}`...)
	}
	dst = append(dst, `,"storage":{"url":"`...)
	dst = m.appendStorageURL(dst)
	dst = append(dst, `","key":"`...)
	dst = append(dst, m.StorageKey...)
	return append(dst, `"}`...)
}

// appendTail renders campaigns, tags and user-variables, which the Logs API
// carries as a JSON string.
func appendTail(dst []byte, m *Message, sh shape) []byte {
	dst = append(dst, `,"campaigns":[],"tags":`...)
	if m.Tags == nil {
		dst = append(dst, `[]`...)
	} else {
		dst = appendStrings(dst, m.Tags)
	}
	dst = append(dst, `,"user-variables":`...)
	vars := m.UserVariables
	if vars == "" {
		vars = "{}"
	}
	if sh == shapeLogs {
		return appendString(dst, vars)
	}
	return append(dst, vars...)
}

func appendClient(dst []byte, c *Client) []byte {
	dst = append(dst, `,"client-info":{"client-type":`...)
	dst = appendString(dst, c.Type)
	dst = appendKeyString(dst, "client-os", c.OS)
	dst = appendKeyString(dst, "device-type", c.DeviceType)
	dst = appendKeyString(dst, "client-name", c.Name)
	dst = appendKeyString(dst, "user-agent", c.UserAgent)
	return append(dst, `,"bot":""}`...)
}

// appendStatus renders the delivery-status object.
func appendStatus(dst []byte, st *DeliveryStatus, sh shape) []byte {
	if st.DelayedBounce {
		dst = append(dst, `,"delivery-status":{"bounce-code":`...)
		dst = appendString(dst, st.EnhancedCode)
		dst = appendKeyString(dst, "message", st.Message)
		dst = appendKeyInt(dst, "code", int64(st.Code))
		dst = appendKeyString(dst, "description", st.Description)
		dst = appendKeyString(dst, "enhanced-code", st.EnhancedCode)
		dst = appendKeyString(dst, "bounce-type", st.BounceType)
		return append(dst, '}')
	}
	if st.MXHost == "" {
		// No SMTP session: 498/499/602 and suppression drops.
		dst = append(dst, `,"delivery-status":{"attempt-no":`...)
		dst = strconv.AppendInt(dst, int64(st.Attempt), 10)
		dst = appendKeyString(dst, "message", st.Message)
		dst = appendKeyInt(dst, "code", int64(st.Code))
		dst = appendKeyString(dst, "description", st.Description)
		dst = append(dst, `,"session-seconds":0.0`...)
		if st.RetrySeconds > 0 {
			dst = appendKeyInt(dst, "retry-seconds", int64(st.RetrySeconds))
		}
		if sh == shapeLogs && st.LastCode != 0 {
			dst = appendKeyInt(dst, "last-code", int64(st.LastCode))
			dst = appendKeyString(dst, "last-message", st.LastMessage)
		}
		return append(dst, '}')
	}
	dst = append(dst, `,"delivery-status":{"tls":`...)
	dst = strconv.AppendBool(dst, st.TLS)
	dst = append(dst, `,"mx-host":`...)
	dst = appendString(dst, st.MXHost)
	dst = appendKeyInt(dst, "code", int64(st.Code))
	dst = appendKeyString(dst, "description", st.Description)
	dst = append(dst, `,"session-seconds":`...)
	dst = appendMillis(dst, st.SessionMS)
	dst = append(dst, `,"utf8":true,"attempt-no":`...)
	dst = strconv.AppendInt(dst, int64(st.Attempt), 10)
	dst = appendKeyString(dst, "message", st.Message)
	if st.RetrySeconds > 0 {
		dst = appendKeyInt(dst, "retry-seconds", int64(st.RetrySeconds))
	}
	if st.Code != 250 || st.EnhancedCode != "" {
		dst = appendKeyString(dst, "enhanced-code", st.EnhancedCode)
	}
	dst = appendKeyBool(dst, "certificate-verified", st.CertVerified)
	if st.BounceType != "" {
		dst = appendKeyString(dst, "bounce-type", st.BounceType)
	}
	if sh == shapeLogs {
		dst = append(dst, `,"first-delivery-attempt-seconds":`...)
		dst = appendMillis(dst, st.FirstAttemptMS)
		if st.LastCode != 0 {
			dst = appendKeyInt(dst, "last-code", int64(st.LastCode))
			dst = appendKeyString(dst, "last-message", st.LastMessage)
		}
	}
	return append(dst, '}')
}
