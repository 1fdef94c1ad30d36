package analyze

import "testing"

func TestCursorRoundTrip(t *testing.T) {
	c := Cursor{TS: 1763600000123456, Seq: 42}
	got, err := ParseCursor(c.String())
	if err != nil || got != c {
		t.Errorf("ParseCursor(%q) = %+v, %v; want %+v", c.String(), got, err, c)
	}
	for _, bad := range []string{"", "12", "12.", ".3", "a.b", "1.2.3"} {
		if _, err := ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) took it", bad)
		}
	}
}
