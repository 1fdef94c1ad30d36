package server

import "github.com/maildiag/maildiag/ingest"

// redactSecrets takes the keys out of a text, in every form the API key
// is sent in.
func redactSecrets(text string, keys ...string) string {
	for _, k := range keys {
		if k != "" {
			text = ingest.RedactKey(text, k)
		}
	}
	return text
}
