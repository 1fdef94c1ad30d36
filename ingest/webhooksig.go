package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mailgun/mailgun-go/v5"
	"github.com/mailgun/mailgun-go/v5/mtypes"
)

// WebhookSignature is the "signature" object of a Mailgun webhook
// ({"signature": {...}, "event-data": {...}}).
type WebhookSignature struct {
	Timestamp string `json:"timestamp"` // epoch seconds, as a string
	Token     string `json:"token"`
	Signature string `json:"signature"` // hex HMAC-SHA256 of timestamp+token
}

// ErrBadSignature is returned for a webhook whose signature does not match
// the signing key, and ErrStaleSignature for one signed too long ago (a
// replay of a captured request).
var (
	ErrBadSignature   = errors.New("webhook signature does not match the signing key")
	ErrStaleSignature = errors.New("webhook signed too long ago")
)

// VerifyWebhook checks a webhook's signature with the account's webhook
// signing key (not the API key) through mailgun-go v5's
// VerifyWebhookSignature, and that it was signed within maxAge of now,
// either way (0: any age). The key never appears in an error.
func VerifyWebhook(signingKey string, sig WebhookSignature, now time.Time, maxAge time.Duration) error {
	if signingKey == "" {
		return errors.New("verify webhook: no signing key")
	}
	if sig.Timestamp == "" || sig.Token == "" || sig.Signature == "" {
		return fmt.Errorf("verify webhook: %w (timestamp, token or signature missing)", ErrBadSignature)
	}
	mg := mailgun.NewMailgun("")
	mg.SetWebhookSigningKey(signingKey)
	ok, err := mg.VerifyWebhookSignature(mtypes.Signature{TimeStamp: sig.Timestamp, Token: sig.Token, Signature: sig.Signature})
	if err != nil || !ok {
		// err: a signature that is not hex, which cannot match either.
		return fmt.Errorf("verify webhook: %w", ErrBadSignature)
	}
	if maxAge > 0 {
		secs, err := strconv.ParseInt(sig.Timestamp, 10, 64)
		if err != nil {
			return fmt.Errorf("verify webhook: timestamp %q is not epoch seconds: %w", sig.Timestamp, ErrBadSignature)
		}
		if d := now.Sub(time.Unix(secs, 0)); d > maxAge || d < -maxAge {
			return fmt.Errorf("verify webhook: %w (%s from now, more than %s)", ErrStaleSignature, d.Round(time.Second), maxAge)
		}
	}
	return nil
}
