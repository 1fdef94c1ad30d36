package ingest

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"io"
)

// Resynchronising after a bad record. The scanner finds where a value ends
// by matching brackets and quotes; a record cut short or with a stray quote
// never balances, and would swallow every record after it. A value that is
// not valid JSON therefore ends at the first record boundary inside it:
//
//   - a line whose first byte that is not space is '{', indented no more
//     than the value itself (JSON lines and jq . output start each record
//     at column 0; jq . indents array elements by two and everything inside
//     them by more);
//   - inside an array, a ',' followed by '{' (a compact array).
//
// A valid value is never cut, however its lines are indented.

// resyncAt returns where a bad value v, starting at column col, should end,
// or 0 when it is valid or holds no record boundary. unterminated says its
// brackets or quotes never balanced, which makes it bad.
func resyncAt(v []byte, col int, inArray, unterminated bool) int {
	b := firstBoundary(v, col, inArray)
	if b <= 0 {
		return 0
	}
	if !unterminated && stdjson.Valid(v) {
		return 0
	}
	return b
}

// resyncEarly is resyncAt for the part of a value read so far: it returns
// a boundary only when what precedes it, with the boundary's line, can
// begin no valid value, so the scanner need not read on to the end of a
// value that will never end.
func resyncEarly(v []byte, col int, inArray bool) int {
	b := firstBoundary(v, col, inArray)
	if b <= 0 {
		return 0
	}
	end := len(v)
	if i := bytes.IndexByte(v[b:], '\n'); i >= 0 {
		end = b + i
	}
	if validPrefix(v[:end]) {
		return 0
	}
	return b
}

// firstBoundary returns the index of the first record boundary in v after
// its first byte, or 0.
func firstBoundary(v []byte, col int, inArray bool) int {
	b := nextRecordLine(v, col, false)
	if inArray {
		if c := nextElement(v); c > 0 && (b <= 0 || c < b) {
			b = c
		}
	}
	return b
}

// nextRecordLine returns the index of the first line of v after its first
// that starts, after at most maxIndent spaces or tabs, with '{' (or '['
// too, when arrays is set), or 0.
func nextRecordLine(v []byte, maxIndent int, arrays bool) int {
	for i := 0; ; {
		k := bytes.IndexByte(v[i:], '\n')
		if k < 0 {
			return 0
		}
		start := i + k + 1
		j := start
		for j < len(v) && j-start <= maxIndent && (v[j] == ' ' || v[j] == '\t' || v[j] == '\r') {
			j++
		}
		if j < len(v) && j-start <= maxIndent && (v[j] == '{' || arrays && v[j] == '[') {
			return start
		}
		i = start
	}
}

// nextElement returns the index of the first ',' in v followed, after
// white space, by '{', or 0.
func nextElement(v []byte) int {
	for i := 1; i < len(v); i++ {
		k := bytes.IndexByte(v[i:], ',')
		if k < 0 {
			return 0
		}
		i += k
		if j := skipSpace(v, i+1); j < len(v) && v[j] == '{' {
			return i
		}
	}
	return 0
}

// validPrefix tells whether p could be the beginning of a valid JSON value.
func validPrefix(p []byte) bool {
	var raw stdjson.RawMessage
	err := stdjson.NewDecoder(bytes.NewReader(p)).Decode(&raw)
	return err == nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
