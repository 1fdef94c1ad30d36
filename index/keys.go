package index

import (
	"hash/crc64"
	"unsafe"
)

// hash63 is the 63-bit hash the index stores instead of long identifiers
// (message-ids, event ids, addresses): FNV-1a, then a finaliser that spreads
// the bits. It is never 0, so 0 can mean "none".
func hash63(s string) int64 { return finish63(fnv1a(fnvOffset, s)) }

const fnvOffset = 14695981039346656037

// fnv1a adds the bytes of s to an FNV-1a hash.
func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// finish63 spreads the bits of an FNV-1a hash into a non-zero int64.
func finish63(h uint64) int64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	k := int64(h & (1<<63 - 1))
	if k == 0 {
		k = 1
	}
	return k
}

// hash2 is a second 63-bit hash of s (CRC-64, then the same finaliser),
// independent of hash63's FNV-1a: a key table row whose hash and hash2
// both match a string stands for it, with two strings sharing both at a
// chance of about 2^-126. prefix is a text's kind (0 for addresses).
func hash2(prefix byte, s string) int64 {
	c := crc64.Update(0, crcTable, []byte{prefix})
	// s's bytes, read in place: a copy per new address or text is
	// garbage by the million.
	return finish63(crc64.Update(c, crcTable, unsafe.Slice(unsafe.StringData(s), len(s))))
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// messageKey is hash63 of a message-id (without angle brackets); 0 means
// no message-id.
func messageKey(messageID string) int64 {
	if messageID == "" {
		return 0
	}
	return hash63(messageID)
}

// eventHash is the hash of an event's type and Mailgun id that, with its
// UTC day and recipient, identifies it in the index: ids are unique within
// a day, and records of different types never describe one event.
// It is hash63(typ + "\x00" + id), without making that string.
func eventHash(typ, id string) int64 {
	return finish63(fnv1a(fnv1a(fnv1a(fnvOffset, typ), "\x00"), id))
}

// dayOf returns the UTC day number (days since the Unix epoch) of a time
// in microseconds: Mailgun event ids are unique only within it.
func dayOf(us int64) int64 { return floorDiv(us, usPerDay) }
