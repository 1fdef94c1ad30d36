package ingest

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseEpoch(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"1529692198.641821", 1529692198641821}, // float64 would round this the wrong way
		{"1666214138.4046676", 1666214138404667},
		{"1376435471.10744", 1376435471107440},
		{`"1461261330"`, 1461261330000000},
		{" 1461261330.5 ", 1461261330500000},
		{"0", 0},
		{"0.000001", 1},
		{"0.0000009", 0},
		{"-1.5", -1500000},
		{"1.5e9", 1500000000000000},
		{"1e3", 1000000000},
		{"4398046511104", 4398046511104000000},
	} {
		got, err := parseEpoch([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("parseEpoch(%s) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "null", `""`, "abc", "1.2.3", "1.x", "Inf", "-Inf", "1e400", "4398046511105", "9999999999999999999"} {
		if got, err := parseEpoch([]byte(in)); err == nil {
			t.Errorf("parseEpoch(%s) = %d, want an error", in, got)
		}
	}
	t.Run("bugs", func(t *testing.T) {
		for _, tt := range []struct {
			in   string
			want int64
		}{{"-0.5", -500000}, {"1.6662141384046676e9", 1666214138404667}, {"-1.5e0", -1500000}, {"1529692198641821e-6", 1529692198641821}} {
			if got, err := parseEpoch([]byte(tt.in)); err != nil || got != tt.want {
				t.Errorf("parseEpoch(%s) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		}
		for _, in := range []string{"NaN", `"nan"`, "1.1234567junk"} {
			if got, err := parseEpoch([]byte(in)); err == nil {
				t.Errorf("parseEpoch(%s) = %d, want an error", in, got)
			}
		}
	})
}

func TestCSVSplitterRows(t *testing.T) {
	in := "h1,h2\r\na,\"b\r\nc\"\r\n\r\nd,\"e\"\"\"\nlast"
	c := &csvSplitter{br: bufio.NewReader(strings.NewReader(in))}
	type row struct {
		text  string
		lines int
	}
	want := []row{{"h1,h2", 1}, {"a,\"b\r\nc\"", 2}, {"", 1}, {"d,\"e\"\"\"", 1}, {"last", 1}}
	for i, w := range want {
		text, n, err := c.row()
		if string(text) != w.text || n != w.lines {
			t.Errorf("row %d: %q over %d lines, want %q over %d", i, text, n, w.text, w.lines)
		}
		if (err != nil) != (i == len(want)-1) {
			t.Errorf("row %d: err %v", i, err)
		}
	}
}

func TestParseCSVLayout(t *testing.T) {
	for header, list := range map[string]string{
		"address,code,error,created_at": "bounces",
		"Address,Code,Error":            "bounces",
		"address,tags,created_at":       "unsubscribes",
		"created_at,address":            "complaints",
		"\ufeffaddress":                 "complaints",
	} {
		l, err := parseCSVLayout([]byte(header))
		if err != nil || l.list != list {
			t.Errorf("parseCSVLayout(%q) = %+v, %v; want list %s", header, l, err, list)
		}
	}
	l, err := parseCSVLayout([]byte("Event Type,@timestamp,To,Message-ID,delivery-status.code"))
	if err != nil || l.list != "" {
		t.Fatalf("events header: %+v, %v", l, err)
	}
	for field, col := range map[string]int{"event": 0, "time": 1, "recipient": 2, "messageid": 3, "code": 4} {
		if got, ok := l.col[field]; !ok || got != col {
			t.Errorf("column of %s = %d (%v), want %d", field, got, ok, col)
		}
	}
}
