package ingest

import (
	"bytes"
	"errors"
)

// errUnterminated reports a JSON value that does not end before its input does.
var errUnterminated = errors.New("unterminated JSON value")

// valueEnd returns the index just past the JSON value starting at data[i],
// matching brackets and skipping strings without validating anything else
// (the decoder validates each record; this only finds record boundaries).
// It returns errUnterminated when data ends first.
func valueEnd(data []byte, i int) (int, error) {
	if i >= len(data) {
		return i, errUnterminated
	}
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
	default:
		// A scalar ends at the next structural byte or space.
		j := i + 1 // a stray delimiter is consumed as a one-byte value
		for j < len(data) && !isDelim(data[j]) {
			j++
		}
		if j == len(data) {
			return j, errUnterminated
		}
		return j, nil
	}
	depth := 0
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '"':
			e, err := stringEnd(data, j)
			if err != nil {
				return e, err
			}
			j = e - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return len(data), errUnterminated
}

// stringEnd returns the index just past the string starting at data[i] == '"'.
func stringEnd(data []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexAny(data[j:], "\"\\")
		if k < 0 {
			return len(data), errUnterminated
		}
		j += k
		if data[j] == '"' {
			return j + 1, nil
		}
		j += 2 // skip the escaped byte
		if j > len(data) {
			return len(data), errUnterminated
		}
	}
}

func isDelim(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n', ':':
		return true
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// span is one element of a JSON array: data[start:end].
type span struct{ start, end int }

// splitArray returns the elements of the JSON array data[i:] (data[i] == '[').
// Structural slips between elements (a missing comma) are tolerated so that
// one bad element does not lose the rest; a truncated array returns the
// elements found and errUnterminated.
func splitArray(data []byte, i int) ([]span, error) {
	var out []span
	j := i + 1
	for {
		j = skipSpace(data, j)
		if j >= len(data) {
			return out, errUnterminated
		}
		switch data[j] {
		case ']':
			return out, nil
		case ',':
			j++
			continue
		}
		e, err := valueEnd(data, j)
		out = append(out, span{j, e})
		if err != nil {
			return out, err
		}
		j = e
	}
}
