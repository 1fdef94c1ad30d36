package ingest

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxQuoted is how much of the input an error message quotes.
const maxQuoted = 80

// quoteShort quotes outside text for an error message: at most maxQuoted
// bytes of it, Go-quoted (so control bytes are escapes), with its length
// when it was cut. A 5 MB line put 5 MB on stderr.
func quoteShort(b []byte) string {
	if len(b) <= maxQuoted {
		return strconv.Quote(string(b))
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(string(b[:cut])), len(b))
}
