package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxRecord bounds one JSON value or CSV row; larger ones are cut and rejected.
const maxRecord = 256 << 20

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
func (s *scanner) value(inArray bool) ([]byte, error) {
	col := s.column(s.pos)
	for {
		end, err := valueEnd(s.buf, s.pos)
		if err == nil || s.eof || end-s.pos > maxRecord {
			v := s.buf[s.pos:end]
			if b := resyncAt(v, col, inArray, err != nil); b > 0 {
				v = v[:b]
			}
			s.pos += len(v)
			return v, nil
		}
		// Before reading on, see whether what is read already cannot
		// begin a valid value and the next record has started.
		if b := resyncEarly(s.buf[s.pos:], col, inArray); b > 0 {
			v := s.buf[s.pos : s.pos+b]
			s.pos += b
			return v, nil
		}
		if err := s.more(); err != nil {
			return nil, err
		}
	}
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
		first, err := s.value(false)
		if err != nil {
			return err
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
	return p.jsonValues(s)
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

func (p *pipeline) jsonValues(s *scanner) error {
	j := &job{}
	size := 0
	probed := false
	flush := func() error {
		if len(j.recs) == 0 {
			return nil
		}
		err := p.send(j)
		j, size = &job{}, 0
		return err
	}
	add := func(v []byte, at loc) error {
		if !probed && v != nil {
			if err := p.probe(v); err != nil {
				return err
			}
			probed = true
		}
		j.recs = append(j.recs, rec{data: v, at: at})
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
			var err error
			if s.buf[s.pos] == '{' {
				v, err = s.value(false)
			} else {
				v, err = s.junk()
			}
			if err != nil {
				return err
			}
			if err := add(v, at); err != nil {
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
				if err := add(nil, loc{line: s.lineAt(s.pos), offset: s.base + int64(s.pos)}); err != nil {
					return err
				}
				return flush()
			}
			if s.buf[s.pos] == ']' {
				s.pos++
				break
			}
			at := loc{line: s.lineAt(s.pos), item: item, offset: s.base + int64(s.pos)}
			v, err := s.value(true)
			if err != nil {
				return err
			}
			if err := add(v, at); err != nil {
				return err
			}
		}
	}
}

// produceCSV reads the header row, then splits the rest into rows.
func (p *pipeline) produceCSV(br *bufio.Reader) error {
	c := &csvSplitter{br: br}
	line := int64(1)
	header, n, err := c.row()
	for err == nil && len(bytes.TrimSpace(bytes.TrimPrefix(header, []byte("\ufeff")))) == 0 {
		line += int64(n) // blank lines before the header
		header, n, err = c.row()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
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
			j.recs = append(j.recs, rec{data: row, at: loc{line: line, offset: off}})
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
}

func (c *csvSplitter) line() ([]byte, error) {
	if n := len(c.pending); n > 0 {
		l := c.pending[0]
		c.pending = c.pending[1:]
		return l, nil
	}
	return c.br.ReadBytes('\n')
}

func (c *csvSplitter) row() ([]byte, int, error) {
	first, err := c.line()
	if err != nil && len(first) == 0 {
		return nil, 0, err
	}
	acc := [][]byte{first}
	open := inQuotedField(first, false)
	for open && err == nil && len(acc) <= maxRowLines {
		var l []byte
		l, err = c.line()
		if len(l) > 0 {
			acc = append(acc, l)
			open = inQuotedField(l, true)
		}
	}
	if open && len(acc) > 1 {
		// Give the lines back; the first is a row with a stray quote.
		c.pending = append(acc[1:len(acc):len(acc)], c.pending...)
		acc, err = acc[:1], nil
	}
	row := bytes.Join(acc, nil)
	c.consumed += int64(len(row))
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
