package index

import (
	"strconv"
	"testing"
)

func TestTxKeys(t *testing.T) {
	var evs []evRow
	var s txKeys
	const n = 200_000 // past the first table's room
	for i := range n {
		evs = append(evs, evRow{key: evKey{day: int64(i % 31), rcpt: int64(i / 31), idHash: hash63(strconv.Itoa(i))}})
		if i == 10 {
			s.build(evs) // built part-way, as a first repeat does
		} else if i > 10 {
			s.add(evs, i)
		}
	}
	if s.n != n {
		t.Fatalf("%d keys in the set, want %d", s.n, n)
	}
	for i := range n {
		if !s.has(evs, evs[i].key) {
			t.Fatalf("key %d added but not found", i)
		}
		absent := evs[i].key
		absent.idHash++
		if s.has(evs, absent) {
			t.Fatalf("absent key %+v found", absent)
		}
	}
	s.build(evs[:1])
	if s.has(evs, evs[2].key) || !s.has(evs, evs[0].key) {
		t.Error("a rebuilt set kept an old key or lost a new one")
	}
}
