package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkRead reads the sample events repeated in several shapes:
//
//	go test -run='^$' -bench=Read -benchmem ./ingest
//
// "one big page" is a single {"items":[...]} object: the scanner rescans it
// on every chunk it reads, so its time grows faster than its size.
func BenchmarkRead(b *testing.B) {
	ls := lines(readFile(b, eventsFile))
	const copies = 200 // 9800 events, ~6 MB
	var jsonl, arr, page bytes.Buffer
	arr.WriteString("[\n")
	page.WriteString(`{"items":[`)
	for i := range copies * len(ls) {
		l := ls[i%len(ls)]
		jsonl.Write(l)
		jsonl.WriteByte('\n')
		if i > 0 {
			arr.WriteString(",\n")
			page.WriteString(",\n")
		}
		var ind bytes.Buffer
		if err := json.Indent(&ind, l, "  ", "  "); err != nil {
			b.Fatal(err)
		}
		arr.Write(ind.Bytes())
		page.Write(l)
	}
	arr.WriteString("\n]\n")
	page.WriteString(`],"paging":{}}`)
	csvIn := "timestamp,event,id,recipient,delivery-status.code,delivery-status.message\n" +
		strings.Repeat("1529692199.626182,failed,ev1,a@b.com,550,\"550 5.1.1 no such user, sorry\"\n", 50000)
	for _, in := range []struct {
		name string
		data []byte
	}{
		{"json lines", jsonl.Bytes()},
		{"json lines gzip", gz(b, jsonl.Bytes())},
		{"pretty array", arr.Bytes()},
		{"one big page", page.Bytes()},
		{"csv", []byte(csvIn)},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				_, err := Read(context.Background(), bytes.NewReader(in.data), Options{}, func(*Batch) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
