package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxRecord bounds one JSON value, JSON line or CSV row; larger ones are cut
// and rejected, and the memory one record takes is a small multiple of it.
// A Mailgun page (at most 300 events of a few kB) is far smaller. It was
// 256 MiB, and a 200 MB value took 1.8 GB.
const maxRecord = 16 << 20

// scanner holds the unconsumed part of the input in one buffer, allocating a
// new buffer on every refill because jobs keep slices of the old one.
type scanner struct {
	r     io.Reader
	chunk int
	buf   []byte
	pos   int
	eof   bool
	base  int64 // input offset of buf[0]
	line  int64 // line number (1-based) at buf[lpos]
	lpos  int
}

// more reads at least one chunk more, keeping buf[pos:].
func (s *scanner) more() error {
	if s.eof {
		return nil
	}
	s.lineAt(s.pos)
	rest := len(s.buf) - s.pos
	nb := make([]byte, rest, rest+max(s.chunk, rest)) // grow geometrically: a long value is rescanned O(log n) times, not O(n/chunk)
	copy(nb, s.buf[s.pos:])
	s.base += int64(s.pos)
	s.lpos -= s.pos
	s.buf, s.pos = nb, 0
	for len(s.buf) < cap(s.buf) {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// lineAt returns the line number of buf[i], i >= lpos.
func (s *scanner) lineAt(i int) int64 {
	if i > s.lpos {
		s.line += int64(bytes.Count(s.buf[s.lpos:i], nl))
		s.lpos = i
	}
	return s.line
}

// skip moves past white space and, inside arrays, commas.
func (s *scanner) skip(commas bool) error {
	for {
		for s.pos < len(s.buf) && (isSpace(s.buf[s.pos]) || commas && s.buf[s.pos] == ',') {
			s.pos++
		}
		if s.pos < len(s.buf) || s.eof {
			return nil
		}
		if err := s.more(); err != nil {
			return err
		}
	}
}

// value returns the JSON value at pos, reading more input as needed. A value
// cut off by the end of input is returned whole for the decoder to reject.
// A value that is not valid JSON ends where the next record starts
// (resyncAt): a cut or unbalanced record does not swallow the records
// after it.
//
// A value longer than maxRecord is cut there and returned with a reason to
// reject it; the rest of it is read and dropped.
func (s *scanner) value(inArray bool) ([]byte, string, error) {
	col := s.column(s.pos)
	for {
		end, err := valueEnd(s.buf, s.pos)
		if err == nil || s.eof || end-s.pos > maxRecord {
			v := s.buf[s.pos:end]
			if b := resyncAt(v, col, inArray, err != nil); b > 0 {
				v = v[:b]
			}
			if len(v) > maxRecord {
				v = v[:maxRecord]
				s.pos += maxRecord
				return v, tooLong("value"), s.skipRest(v)
			}
			s.pos += len(v)
			return v, "", nil
		}
		// Before reading on, see whether what is read already cannot
		// begin a valid value and the next record has started.
		if b := resyncEarly(s.buf[s.pos:], col, inArray); b > 0 {
			v := s.buf[s.pos : s.pos+b]
			s.pos += b
			return v, "", nil
		}
		if err := s.more(); err != nil {
			return nil, "", err
		}
	}
}

// skipRest moves past the rest of the value whose first bytes are head,
// holding no more than a chunk of it at a time.
func (s *scanner) skipRest(head []byte) error {
	if len(head) == 0 || head[0] != '{' && head[0] != '[' {
		return nil // a scalar: what follows is rejected as it comes
	}
	var k skipper
	if k.feed(head) >= 0 {
		return nil
	}
	for {
		if i := k.feed(s.buf[s.pos:]); i >= 0 {
			s.pos += i
			return nil
		}
		s.pos = len(s.buf)
		if s.eof {
			return nil
		}
		if err := s.more(); err != nil {
			return err
		}
	}
}

// skipper follows the brackets and strings of a JSON value fed to it in
// pieces.
type skipper struct {
	depth    int
	str, esc bool
}

// feed returns the index just past the end of the value in b, or -1 when
// the value goes on after b.
func (k *skipper) feed(b []byte) int {
	for i, c := range b {
		if k.str {
			switch {
			case k.esc:
				k.esc = false
			case c == '\\':
				k.esc = true
			case c == '"':
				k.str = false
			}
			continue
		}
		switch c {
		case '"':
			k.str = true
		case '{', '[':
			k.depth++
		case '}', ']':
			k.depth--
			if k.depth <= 0 {
				return i + 1
			}
		}
	}
	return -1
}

// column returns the column (bytes since the last line break) of buf[i],
// or i when the buffer holds no line break before it.
func (s *scanner) column(i int) int {
	return i - (bytes.LastIndexByte(s.buf[:i], '\n') + 1)
}

// junk returns the bytes at pos up to the next line that starts a JSON
// object or array, or the end of input: what is left of a broken record
// is rejected once, not one stray token at a time.
func (s *scanner) junk() ([]byte, error) {
	for {
		if b := nextRecordLine(s.buf[s.pos:], maxRecord, true); b > 0 || s.eof || len(s.buf)-s.pos > maxRecord {
			if b <= 0 {
				b = min(len(s.buf)-s.pos, maxRecord)
			}
			v := s.buf[s.pos : s.pos+b]
			s.pos += b
			return v, nil
		}
		if err := s.more(); err != nil {
			return nil, err
		}
	}
}

// produceJSON splits JSON input: JSON lines go to workers a chunk of lines
// at a time; anything else (arrays, pretty-printed or concatenated values) is
// split into values here.
func (p *pipeline) produceJSON(br *bufio.Reader) error {
	s := &scanner{r: br, chunk: p.chunk, line: 1}
	for len(s.buf) < 3 && !s.eof { // the BOM may span chunks
		if err := s.more(); err != nil {
			return err
		}
	}
	if bytes.HasPrefix(s.buf, []byte("\ufeff")) {
		s.pos = 3
		s.lpos = 3
	}
	if err := s.skip(false); err != nil {
		return err
	}
	if s.pos < len(s.buf) && s.buf[s.pos] == '{' {
		startOff := s.base + int64(s.pos)
		at := loc{line: s.lineAt(s.pos), offset: startOff}
		first, long, err := s.value(false)
		if err != nil {
			return err
		}
		if long != "" {
			return p.jsonValues(s, &rec{data: first, at: at, reason: long})
		}
		start := int(startOff - s.base) // value() may have moved the buffer
		s.pos = start
		// Decide only once what follows the value on its line is known.
		for !s.eof && onlySpaceTo(s.buf, start+len(first)) {
			if err := s.more(); err != nil {
				return err
			}
			start = int(startOff - s.base)
			first = s.buf[start : start+len(first)]
		}
		if isSingleLine(s.buf, start, start+len(first)) {
			if err := p.probe(first); err != nil {
				return err
			}
			return p.jsonLines(s)
		}
	}
	return p.jsonValues(s, nil)
}

// onlySpaceTo tells whether buf[i:] holds nothing but spaces and tabs:
// neither the end of the line nor another value has been read yet.
func onlySpaceTo(buf []byte, i int) bool {
	for ; i < len(buf); i++ {
		if c := buf[i]; c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// isSingleLine tells whether the value buf[start:end] fills its line, the
// mark of a JSON lines file.
func isSingleLine(buf []byte, start, end int) bool {
	if buf[start] != '{' || bytes.IndexByte(buf[start:end], '\n') >= 0 {
		return false
	}
	for i := end; i < len(buf); i++ {
		switch buf[i] {
		case '\n':
			return true
		case ' ', '\t', '\r':
		default:
			return false
		}
	}
	return true
}

// probe rejects an input whose first record is valid JSON but no known
// shape: one clear error instead of a reject per record.
func (p *pipeline) probe(first []byte) error {
	var b Batch
	p.n.jsonRecord(first, loc{line: 1}, &b, 0, container{})
	if len(b.Events) > 0 || len(b.Suppressions) > 0 || len(b.Rejects) == 0 {
		return nil
	}
	reason := b.Rejects[0].Reason
	if strings.HasPrefix(reason, "not a ") {
		return fmt.Errorf("%w: the first record is %s", ErrUnknownShape, reason)
	}
	return nil
}

func (p *pipeline) jsonLines(s *scanner) error {
	for {
		if s.pos == len(s.buf) && s.eof {
			return nil
		}
		cut := bytes.LastIndexByte(s.buf[s.pos:], '\n')
		if cut < 0 && len(s.buf)-s.pos > maxRecord {
			if err := p.longLine(s); err != nil {
				return err
			}
			continue
		}
		if (cut < 0 || len(s.buf)-s.pos < p.chunk/2) && !s.eof {
			if err := s.more(); err != nil {
				return err
			}
			continue
		}
		end := len(s.buf)
		if cut >= 0 && !s.eof {
			end = s.pos + cut + 1
		}
		j := &job{lines: s.buf[s.pos:end], line: s.lineAt(s.pos), offset: s.base + int64(s.pos)}
		s.pos = end
		if err := p.send(j); err != nil {
			return err
		}
	}
}

// longLine rejects a JSON line longer than maxRecord, keeping its first
// maxRecord bytes, and skips the rest of it without holding it.
func (p *pipeline) longLine(s *scanner) error {
	at := loc{line: s.lineAt(s.pos), offset: s.base + int64(s.pos)}
	j := &job{recs: []rec{{data: s.buf[s.pos : s.pos+maxRecord], at: at, reason: tooLong("line")}}}
	if err := p.send(j); err != nil {
		return err
	}
	for {
		if i := bytes.IndexByte(s.buf[s.pos:], '\n'); i >= 0 {
			s.pos += i + 1
			s.lineAt(s.pos)
			return nil
		}
		s.pos = len(s.buf) // not a line break in it: nothing to count
		s.lpos = s.pos
		if s.eof {
			return nil
		}
		if err := s.more(); err != nil {
			return err
		}
	}
}

// tooLong is the reason a record longer than maxRecord is rejected.
func tooLong(what string) string {
	return fmt.Sprintf("%s longer than %d MiB: its first %d MiB are kept, the rest skipped", what, maxRecord>>20, maxRecord>>20)
}

// jsonValues splits values one after another, and arrays into elements;
// first, when set, is a record already split (a first value too long).
func (p *pipeline) jsonValues(s *scanner, first *rec) error {
	j := &job{}
	size := 0
	probed := false
	if first != nil {
		j.recs, size, probed = append(j.recs, *first), len(first.data), true
	}
	flush := func() error {
		if len(j.recs) == 0 {
			return nil
		}
		err := p.send(j)
		j, size = &job{}, 0
		return err
	}
	add := func(v []byte, at loc, reason string) error {
		if !probed && v != nil && reason == "" {
			if err := p.probe(v); err != nil {
				return err
			}
			probed = true
		}
		j.recs = append(j.recs, rec{data: v, at: at, reason: reason})
		size += len(v)
		if size >= p.chunk || len(j.recs) >= 4096 {
			return flush()
		}
		return nil
	}
	for {
		if err := s.skip(false); err != nil {
			return err
		}
		if s.pos == len(s.buf) {
			return flush()
		}
		if s.buf[s.pos] != '[' {
			at := loc{line: s.lineAt(s.pos), offset: s.base + int64(s.pos)}
			var v []byte
			var long string
			var err error
			if s.buf[s.pos] == '{' {
				v, long, err = s.value(false)
			} else {
				v, err = s.junk()
			}
			if err != nil {
				return err
			}
			if err := add(v, at, long); err != nil {
				return err
			}
			continue
		}
		// A top-level array is streamed element by element.
		s.pos++
		for item := 1; ; item++ {
			if err := s.skip(true); err != nil {
				return err
			}
			if s.pos == len(s.buf) {
				if err := add(nil, loc{line: s.lineAt(s.pos), offset: s.base + int64(s.pos)}, ""); err != nil {
					return err
				}
				return flush()
			}
			if s.buf[s.pos] == ']' {
				s.pos++
				break
			}
			at := loc{line: s.lineAt(s.pos), item: item, offset: s.base + int64(s.pos)}
			v, long, err := s.value(true)
			if err != nil {
				return err
			}
			if err := add(v, at, long); err != nil {
				return err
			}
		}
	}
}

// produceCSV reads the header row, then splits the rest into rows.
func (p *pipeline) produceCSV(br *bufio.Reader) error {
	c := &csvSplitter{br: br, header: true}
	line := int64(1)
	header, n, err := c.row()
	for err == nil && !c.long && len(bytes.TrimSpace(bytes.TrimPrefix(header, []byte("\ufeff")))) == 0 {
		line += int64(n) // blank lines before the header
		header, n, err = c.row()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if c.long {
		return fmt.Errorf("%w: line %d is longer than %d MiB: %w", ErrTooLong, line, maxRecord>>20, ErrUnknownShape)
	}
	c.header = false
	layout, lerr := parseCSVLayout(bytes.TrimPrefix(header, []byte("\ufeff")))
	switch {
	case errors.Is(lerr, errNotCSV):
		return fmt.Errorf("%w: %v", ErrUnknownShape, lerr)
	case lerr != nil:
		return lerr
	case layout.list != "" && p.n.sendingDomain == "":
		return fmt.Errorf("a %s list: %w", layout.list, ErrNoSendingDomain)
	}
	line += int64(n)
	off := c.consumed
	j := &job{layout: layout}
	size := 0
	for {
		row, n, err := c.row()
		if len(bytes.TrimSpace(row)) > 0 {
			r := rec{data: row, at: loc{line: line, offset: off}}
			if c.long {
				r.reason = tooLong("row")
			}
			j.recs = append(j.recs, r)
			size += len(row)
		}
		line += int64(n)
		off = c.consumed
		if size >= p.chunk || len(j.recs) >= 4096 || (err != nil && len(j.recs) > 0) {
			if serr := p.send(j); serr != nil {
				return serr
			}
			j, size = &job{layout: layout}, 0
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// maxRowLines bounds a quoted field spanning lines; past it the first line is
// taken as a row with a stray quote, so one bad row does not swallow the rest.
const maxRowLines = 1000

// csvSplitter splits CSV input into rows: physical lines until the quotes
// balance. It returns a row without its final line break.
type csvSplitter struct {
	br       *bufio.Reader
	pending  [][]byte // lines read ahead and given back
	consumed int64    // bytes of the rows returned so far
	header   bool     // the header is being read: a long line is not read to its end
	long     bool     // the last row returned was cut at maxRecord bytes
	skipped  int64    // bytes of the last row left out
}

// line returns the next line with its line break. A line longer than
// maxRecord is cut there; the rest of it is read and dropped, except on
// the first line of the input (/dev/zero has no end).
func (c *csvSplitter) line() ([]byte, error) {
	if n := len(c.pending); n > 0 {
		l := c.pending[0]
		c.pending = c.pending[1:]
		return l, nil
	}
	var out []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		if len(out)+len(frag) <= maxRecord {
			out = append(out, frag...)
			if err != bufio.ErrBufferFull {
				return out, err
			}
			continue
		}
		keep := maxRecord - len(out)
		out = append(out, frag[:keep]...)
		c.long = true
		if c.header {
			return out, nil
		}
		c.skipped += int64(len(frag) - keep)
		for err == bufio.ErrBufferFull {
			frag, err = c.br.ReadSlice('\n')
			c.skipped += int64(len(frag))
		}
		if err == nil {
			out = append(out, '\n') // the row ends here; its line break says so
			c.skipped--
		}
		return out, err
	}
}

func (c *csvSplitter) row() ([]byte, int, error) {
	c.long, c.skipped = false, 0
	first, err := c.line()
	if c.long && c.header {
		return first, 1, err
	}
	if err != nil && len(first) == 0 {
		return nil, 0, err
	}
	acc := [][]byte{first}
	size := len(first)
	open := inQuotedField(first, false)
	for open && err == nil && len(acc) <= maxRowLines && !c.long && size <= maxRecord {
		var l []byte
		l, err = c.line()
		if len(l) > 0 {
			acc = append(acc, l)
			size += len(l)
			open = inQuotedField(l, true)
		}
	}
	if open && len(acc) > 1 && !c.long {
		// Give the lines back; the first is a row with a stray quote.
		c.pending = append(acc[1:len(acc):len(acc)], c.pending...)
		acc, err = acc[:1], nil
	}
	row := bytes.Join(acc, nil)
	c.consumed += int64(len(row)) + c.skipped
	if err == nil && len(c.pending) == 0 {
		// Report EOF with the last row, not one call later.
		if _, perr := c.br.Peek(1); perr == io.EOF {
			err = io.EOF
		}
	}
	return trimEOL(row), len(acc), err
}

// inQuotedField tells whether a CSV line ends inside a quoted field, given
// whether it starts inside one. As in encoding/csv, a quote opens a quoted
// field only at the start of a field; elsewhere it is a stray byte.
func inQuotedField(line []byte, quoted bool) bool {
	fieldStart := !quoted
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '"':
			if i+1 < len(line) && line[i+1] == '"' {
				i++ // an escaped quote
			} else {
				quoted = false
			}
		case quoted:
		case c == '"' && fieldStart:
			quoted = true
		}
		fieldStart = !quoted && c == ','
	}
	return quoted
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
