package mgserver

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	gojson "github.com/goccy/go-json"
)

// itemFields are the parts of an Events API item the server filters and
// pages on. They are decoded from the item itself, so a filter sees exactly
// what the item carries: opens have no subject, rejections no recipient.
type itemFields struct {
	Event           string         `json:"event"`
	ID              string         `json:"id"`
	Timestamp       stdjson.Number `json:"timestamp"`
	Recipient       string         `json:"recipient"`
	RecipientDomain string         `json:"recipient-domain"`
	Provider        string         `json:"recipient-provider"`
	Severity        string         `json:"severity"`
	Reason          string         `json:"reason"`
	Flags           struct {
		DelayedBounce bool `json:"is-delayed-bounce"`
	} `json:"flags"`
	Tags     []string `json:"tags"`
	Envelope struct {
		Sender string `json:"sender"`
	} `json:"envelope"`
	MailingList struct {
		Address string `json:"address"`
	} `json:"mailing-list"`
	Message struct {
		Headers struct {
			To        string `json:"to"`
			MessageID string `json:"message-id"`
			From      string `json:"from"`
			Subject   string `json:"subject"`
		} `json:"headers"`
		Attachments []struct {
			Filename    string `json:"filename"`
			ContentType string `json:"content-type"`
			Size        int    `json:"size"`
		} `json:"attachments"`
		Recipients []string `json:"recipients"`
		Size       *int     `json:"size"`
	} `json:"message"`
	DeliveryStatus struct {
		Code int `json:"code"`
	} `json:"delivery-status"`
	Storage struct {
		Key string `json:"key"`
		URL string `json:"url"`
	} `json:"storage"`
}

// decodeFields decodes an Events API item. goccy/go-json is several times
// faster than encoding/json and, told not to copy strings, leaves them
// pointing into raw (which the arena never changes); encoding/json has the
// last word on anything it rejects.
func decodeFields(raw []byte) (*itemFields, error) {
	f := new(itemFields)
	if fastDecode(raw, f) == nil {
		return f, nil
	}
	*f = itemFields{}
	if err := stdjson.Unmarshal(raw, f); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	return f, nil
}

func fastDecode(raw []byte, f *itemFields) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return gojson.UnmarshalWithOption(raw, f, gojson.DecodeNoCopyString())
}

// micros returns the item's timestamp in microseconds. The float is read
// from its text: 1763596800.123456 has more digits than a float64 keeps.
func (f *itemFields) micros() (int64, error) {
	s := f.Timestamp.String()
	if s == "" {
		return 0, errors.New("event has no timestamp")
	}
	return parseEpochMicros(s)
}

// parseEpochMicros parses epoch seconds with an optional fraction.
func parseEpochMicros(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if strings.ContainsAny(s, "eE") {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("timestamp %q: %w", s, err)
		}
		return int64(v * 1e6), nil
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timestamp %q: not epoch seconds", s)
	}
	if len(frac) > 6 {
		frac = frac[:6]
	}
	us := int64(0)
	for i := 0; i < 6; i++ {
		us *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("timestamp %q: not epoch seconds", s)
			}
			us += int64(c - '0')
		}
	}
	if sec < 0 || strings.HasPrefix(whole, "-") {
		return sec*1e6 - us, nil
	}
	return sec*1e6 + us, nil
}
