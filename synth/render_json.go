package synth

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The renderers append bytes by hand: encoding/json would cost more than the
// whole generator on the hot path. These helpers keep the output valid JSON.

// jsonPlain[c] is true when the ASCII byte c needs no escaping in a JSON string.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does; <, > and & are left alone, as Mailgun leaves them.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendStringBody(dst, s)
	return append(dst, '"')
}

// Masks for the word-at-a-time scan in appendStringBody.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainWord reports whether 8 bytes need no escaping: all ASCII, none below
// 0x20, no quote and no backslash. It may say false for a plain word (the
// slow path then decides), never true for one that needs escaping.
func plainWord(w uint64) bool {
	ctl := (w - 0x20*lsb) &^ w
	return (ctl|zeroByte(w^'"'*lsb)|zeroByte(w^'\\'*lsb)|w)&msb == 0
}

// zeroByte has the high bit set in (at least) the bytes of x that are zero.
func zeroByte(x uint64) uint64 { return (x - lsb) &^ x }

// appendStringBody appends s escaped for JSON, without the quotes.
func appendStringBody(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if !plainWord(w) {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// appendKeyString appends ,"key":"val"; the appendKey helpers render a
// member after the first one of an object.
func appendKeyString(dst []byte, key, val string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return appendString(dst, val)
}

func appendKeyInt(dst []byte, key string, v int64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, v, 10)
}

func appendKeyBool(dst []byte, key string, v bool) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return strconv.AppendBool(dst, v)
}

// appendStrings appends a JSON array of strings.
func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendEpoch appends microseconds since the epoch as seconds with exactly six
// decimals, the way Mailgun writes event timestamps.
func appendEpoch(dst []byte, us int64) []byte {
	dst = strconv.AppendInt(dst, us/1e6, 10)
	return appendFrac(dst, us%1e6, 6)
}

// appendMillis appends a duration in milliseconds as seconds with three decimals.
func appendMillis(dst []byte, ms int) []byte {
	dst = strconv.AppendInt(dst, int64(ms/1000), 10)
	return appendFrac(dst, int64(ms%1000), 3)
}

func appendFrac(dst []byte, v int64, digits int) []byte {
	dst = append(dst, '.')
	var b [6]byte
	for i := digits - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:digits]...)
}

// appendISO appends an ISO-8601 UTC time with fracDigits (3 or 6) decimals
// and a Z suffix, e.g. 2026-11-15T09:30:12.123Z.
func appendISO(dst []byte, us int64, fracDigits int) []byte {
	secs := us / 1e6
	days := secs / 86400
	rem := secs % 86400
	y, m, d := civil(days)
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, int(rem/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(rem/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(rem%60))
	frac := us % 1e6
	if fracDigits == 3 {
		frac /= 1000
	}
	dst = appendFrac(dst, frac, fracDigits)
	return append(dst, 'Z')
}

// appendCompactTime appends YYYYMMDDhhmmss, the prefix of Mailgun message ids.
func appendCompactTime(dst []byte, us int64) []byte {
	secs := us / 1e6
	y, m, d := civil(secs / 86400)
	rem := secs % 86400
	dst = append4(dst, y)
	dst = append2(dst, m)
	dst = append2(dst, d)
	dst = append2(dst, int(rem/3600))
	dst = append2(dst, int(rem/60%60))
	return append2(dst, int(rem%60))
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func append4(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse); times here are never negative.
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// SuppressionTimeLayout is the layout of created_at in Mailgun's suppression
// lists, e.g. "Thu, 11 Dec 2025 01:49:40 UTC".
const SuppressionTimeLayout = "Mon, 02 Jan 2006 15:04:05 UTC"

// rfc2822Layout is how the Logs API echoes start and end.
const rfc2822Layout = "Mon, 02 Jan 2006 15:04:05 -0000"

func utcMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }
