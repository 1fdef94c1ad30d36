package index

import "hash/fnv"

// MessageKey is the 63-bit FNV-1a hash of a message-id (without angle
// brackets) that events.message_key holds; 0 means no message-id. Storing a
// hash instead of the text keeps the index small; the text is in each
// event's original JSON. SQL: message_key('<message-id>').
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
