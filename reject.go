package maildiag

import "fmt"

// Reject is an input record that could not be loaded, kept with its raw text
// so that nothing is silently dropped.
type Reject struct {
	Line   int64  // 1-based line where the record starts; 0 when unknown
	Item   int    // 1-based position inside a page or array on that line; 0 when not in one
	Offset int64  // byte offset of the record in the (decompressed) input
	Reason string // why it was rejected
	Raw    []byte
}

// Where names the record's place in an input called source: source:line,
// with its item inside a page or array on that line when there is one.
func (r *Reject) Where(source string) string {
	switch {
	case r.Line > 0 && r.Item > 0:
		return fmt.Sprintf("%s:%d (item %d)", source, r.Line, r.Item)
	case r.Line > 0:
		return fmt.Sprintf("%s:%d", source, r.Line)
	}
	return source
}
