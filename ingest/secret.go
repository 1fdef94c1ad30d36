package ingest

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
)

// Redacted is what stands for a secret in any text maildiag shows or keeps.
const Redacted = "[redacted]"

// secretForms returns the ways key travels to the API, so that an answer
// echoing a request (its Authorization header, its URL) gives none of them
// back: the key itself, URL-escaped, and the Basic credentials "api:key"
// in every base64 alphabet.
func secretForms(key string) []string {
	if key == "" {
		return nil
	}
	cred := []byte("api:" + key)
	forms := []string{key, url.QueryEscape(key), url.PathEscape(key)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString(cred))
	}
	// Longest first: the padded base64 form holds the unpadded one.
	for i := range forms {
		for j := i + 1; j < len(forms); j++ {
			if len(forms[j]) > len(forms[i]) {
				forms[i], forms[j] = forms[j], forms[i]
			}
		}
	}
	return forms
}

// RedactKey replaces key, in every form it is sent in, by Redacted.
func RedactKey(s, key string) string {
	for _, f := range secretForms(key) {
		s = strings.ReplaceAll(s, f, Redacted)
	}
	return s
}

// redactBytes is RedactKey for a body.
func redactBytes(b []byte, forms []string) []byte {
	for _, f := range forms {
		if bytes.Contains(b, []byte(f)) {
			b = bytes.ReplaceAll(b, []byte(f), []byte(Redacted))
		}
	}
	return b
}

// RedactURL returns u with the password of its user info replaced by
// Redacted, and u unchanged when it is no URL with a password.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, ok := p.User.Password(); !ok {
		return u
	}
	p.User = url.UserPassword(p.User.Username(), "KEY")
	return strings.Replace(p.String(), ":KEY@", ":"+Redacted+"@", 1)
}

// SplitCredentials takes the user info out of an API base URL, returning
// the base without it and the password ("" when there is none): Mailgun's
// key as a URL's password, http://api:KEY@host.
func SplitCredentials(base string) (string, string) {
	p, err := url.Parse(base)
	if err != nil || p.User == nil {
		return base, ""
	}
	pw, _ := p.User.Password()
	p.User = nil
	return p.String(), pw
}
