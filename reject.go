package maildiag

// Reject is an input record that could not be loaded, kept with its raw text
// so that nothing is silently dropped.
type Reject struct {
	Line   int64  // 1-based line where the record starts; 0 when unknown
	Item   int    // 1-based position inside a page or array on that line; 0 when not in one
	Offset int64  // byte offset of the record in the (decompressed) input
	Reason string // why it was rejected
	Raw    []byte
}
