package mgserver

// arena keeps the account's JSON in large chunks instead of one allocation
// per item: 100,000 events are 200,000 JSON documents, and one slice each
// would cost the garbage collector more than the bytes themselves. Nothing
// handed out is ever written again, so strings decoded from it may alias it.
type arena struct {
	cur []byte
}

const arenaChunk = 1 << 20

// copy returns a copy of b that lives in the arena.
func (a *arena) copy(b []byte) []byte {
	if len(b) > arenaChunk/4 {
		return append([]byte(nil), b...)
	}
	if cap(a.cur)-len(a.cur) < len(b) {
		a.cur = make([]byte, 0, arenaChunk)
	}
	start := len(a.cur)
	a.cur = append(a.cur, b...)
	return a.cur[start:len(a.cur):len(a.cur)]
}
