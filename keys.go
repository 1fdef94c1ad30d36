package maildiag

import "hash/fnv"

// MessageKey is the 63-bit FNV-1a hash of a message-id (without angle
// brackets) that the index stores instead of the text; 0 means no
// message-id.
func MessageKey(messageID string) int64 {
	if messageID == "" {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(messageID))
	k := int64(h.Sum64() & (1<<63 - 1))
	if k == 0 {
		k = 1
	}
	return k
}

// EventKey hashes an event's identity, its UTC day and Mailgun id, for
// finding repeats in memory; equal keys are confirmed by comparing the ids.
func EventKey(day int64, id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64() ^ uint64(day)*0x9E3779B97F4A7C15
}

// DeriveKeys fills MessageKey and Key from MessageID, TimeUS and ID. Ingest
// calls it on its worker goroutines so the index writer need not.
func (e *Event) DeriveKeys() {
	e.MessageKey = MessageKey(e.MessageID)
	e.Key = EventKey(e.Day(), e.ID)
}
