package index

import (
	"strconv"
	"testing"
)

func TestTxKeys(t *testing.T) {
	var keys []evKey
	var s txKeys
	const n = 200_000 // past the first table's room
	for i := range n {
		keys = append(keys, evKey{day: int64(i % 31), rcpt: int64(i / 31), idHash: hash63(strconv.Itoa(i))})
		if i == 10 {
			s.build(keys) // built part-way, as a first repeat does
		} else if i > 10 {
			s.add(keys, i)
		}
	}
	if s.n != n {
		t.Fatalf("%d keys in the set, want %d", s.n, n)
	}
	for i := range n {
		if !s.has(keys, keys[i]) {
			t.Fatalf("key %d added but not found", i)
		}
		absent := keys[i]
		absent.idHash++
		if s.has(keys, absent) {
			t.Fatalf("absent key %+v found", absent)
		}
	}
	s.build(keys[:1])
	if s.has(keys, keys[2]) || !s.has(keys, keys[0]) {
		t.Error("a rebuilt set kept an old key or lost a new one")
	}
}
