package report

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"regexp"
	"strings"

	"github.com/maildiag/maildiag/analyze"
)

// RedactAddress replaces the local part of an email address with a stable
// short hash of the whole address, keeping the domain, which the report
// needs: john.smith@acme.com becomes u-3f9a2c@acme.com. The same address and
// salt always give the same result, so rows still line up across tables;
// the case of the address does not matter. Without a secret salt the hash
// of a guessed address can be checked, so pass one. A string without a
// local part and a domain, or already redacted, is returned unchanged, so
// redacting twice is harmless.
func RedactAddress(addr, salt string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 || redactedRE.MatchString(addr[:at]) {
		return addr
	}
	mac := hmac.New(sha256.New, []byte(salt))
	mac.Write([]byte(strings.ToLower(addr)))
	return "u-" + hex.EncodeToString(mac.Sum(nil))[:6] + addr[at:]
}

// addrRE finds addresses inside free text, such as server replies
// ("550 5.1.1 <jane@acme.com>: Recipient address rejected") and subjects.
// "*" and "?" are left out of the local part so that patterns such as
// "*@acme.com" are not mistaken for addresses.
var addrRE = regexp.MustCompile(`[A-Za-z0-9.!#$%&'+/=^_` + "`" + `{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)

var redactedRE = regexp.MustCompile(`^u-[0-9a-f]{6}$`)

// RedactText redacts every address found in s with RedactAddress.
func RedactText(s, salt string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return addrRE.ReplaceAllStringFunc(s, func(a string) string { return RedactAddress(a, salt) })
}

// Redact replaces the local part of every address in a health result, in
// address fields and inside any text (replies, subjects, alert text,
// evidence), and sets d.Redacted: both the HTML and the JSON of the result
// are then redacted. It walks every string field, so a field added to the
// result later is covered without changing this function.
func Redact(d *analyze.HealthResult, salt string) {
	redactValue(reflect.ValueOf(d).Elem(), salt)
	d.Redacted = true
}

func redactValue(v reflect.Value, salt string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(RedactText(v.String(), salt))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				redactValue(v.Field(i), salt)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			redactValue(v.Index(i), salt)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			redactValue(v.Elem(), salt)
		}
	}
}
