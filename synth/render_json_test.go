package synth

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// checkString renders s and decodes it with encoding/json: the result must
// be valid JSON holding what encoding/json makes of s.
func checkString(t *testing.T, s string) {
	t.Helper()
	out := appendString(nil, s)
	var back string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("appendString(%q) = %s: invalid JSON: %v", s, out, err)
	}
	want := strings.ToValidUTF8(s, "\uFFFD")
	if !utf8.ValidString(s) {
		// encoding/json replaces each invalid byte; so does appendString.
		ref, _ := json.Marshal(s)
		json.Unmarshal(ref, &want)
	}
	if back != want {
		t.Fatalf("appendString(%q) decodes to %q, want %q", s, back, want)
	}
}

func TestAppendString(t *testing.T) {
	cases := []string{
		"", "plain", "exactly8", "sixteen bytes!!!", `a "quoted" subject`, `back\slash`,
		"line one\nline two\r\n\ttab", "\x00\x01\x1f\x7f", "Île-de-France – São Paulo €49 🎉",
		"0123456789abcdef\"", "0123456789abcde\\", "01234567\n", "\u2028\u2029", "bad \xff\xfe utf8", "\xc3",
		strings.Repeat("long plain text ", 40), strings.Repeat("x", 7) + "\"" + strings.Repeat("y", 9),
	}
	for _, s := range cases {
		checkString(t, s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", `"\`, "\n\x00", "é€🎉", "\xff", "01234567\"89"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkString(t, s) })
}

func TestTimeFormats(t *testing.T) {
	for _, us := range []int64{0, 951782400123456, 1792541075517052, 4102444799999999, 1709164800000001} {
		tm := time.UnixMicro(us).UTC()
		if got, want := string(appendISO(nil, us, 6)), tm.Format("2006-01-02T15:04:05.000000Z"); got != want {
			t.Errorf("appendISO(%d, 6) = %s, want %s", us, got, want)
		}
		if got, want := string(appendISO(nil, us, 3)), tm.Format("2006-01-02T15:04:05.000Z"); got != want {
			t.Errorf("appendISO(%d, 3) = %s, want %s", us, got, want)
		}
		if got, want := string(appendCompactTime(nil, us)), tm.Format("20060102150405"); got != want {
			t.Errorf("appendCompactTime(%d) = %s, want %s", us, got, want)
		}
		var f float64
		if err := json.Unmarshal(appendEpoch(nil, us), &f); err != nil || int64(f) != us/1e6 {
			t.Errorf("appendEpoch(%d) = %s", us, appendEpoch(nil, us))
		}
	}
	if got := string(appendEpoch(nil, 1529692198000041)); got != "1529692198.000041" {
		t.Errorf("appendEpoch keeps six decimals: got %s", got)
	}
	if got := string(appendMillis(nil, 15026)); got != "15.026" {
		t.Errorf("appendMillis(15026) = %s", got)
	}
}
