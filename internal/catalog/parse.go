package catalog

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/invsys/inv/engine"
)

// Limits bound what Parse reads, so that a wrong file (a video, a log, a
// runaway export) is refused early instead of filling memory. A zero field
// takes its default.
type Limits struct {
	MaxFileBytes int64 // bytes of the whole file
	MaxLineBytes int   // bytes of one line
	MaxRows      int   // data rows (the header not counted)
	MaxErrors    int   // errors reported before Parse stops reading
}

// Defaults of Limits.
const (
	// A flash sale of 40 SKUs in 6,000 stores with a day of windows is about
	// 140 MB; Parse holds about as much memory as the file has bytes.
	DefaultMaxFileBytes = 256 << 20
	// The longest valid row (two 64-byte ids of quotes, every time with
	// nanoseconds and an offset, 64 windows) is under 6 KiB.
	DefaultMaxLineBytes = 16 << 10
	// A million items: thousands of stores times hundreds of SKUs.
	DefaultMaxRows = 1 << 20
	// Enough to see every pattern of mistakes; a file with more bad rows is
	// most likely the wrong file.
	DefaultMaxErrors = 1000
)

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = DefaultMaxLineBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	if l.MaxErrors <= 0 {
		l.MaxErrors = DefaultMaxErrors
	}
	return l
}

// RowError is one problem of a file: a bad row, a bad header, malformed
// CSV or a limit reached.
type RowError struct {
	Line   int    // line of the file where the row starts (the header is line 1); 0 for an item given to Write
	Column string // the column at fault, or "" for the whole row or file
	Msg    string
}

func (e RowError) Error() string {
	var b bytes.Buffer
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Column != "" {
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse reads a catalog with the default Limits. See Limits.Parse.
func Parse(r io.Reader) ([]Row, []RowError) { return Limits{}.Parse(r) }

// Parse reads a catalog and checks every row. It returns either the rows,
// in file order, and no errors, or no rows and every error found (in line
// order, several per row when a row has several problems), so that an
// importer cannot load part of a bad file. A file with a header and no
// rows gives neither.
//
// It stops early, with an error saying why, at a bad header, at a line,
// file or row count over the limits, or after l.MaxErrors errors.
func (l Limits) Parse(r io.Reader) ([]Row, []RowError) {
	l = l.withDefaults()
	in := &boundedReader{r: r, maxFile: l.MaxFileBytes, maxLine: l.MaxLineBytes, line: 1}
	buf := bufio.NewReader(in)
	if bom, _ := buf.Peek(3); bytes.Equal(bom, []byte("\ufeff")) {
		buf.Discard(3) // spreadsheets mark their UTF-8 CSV so; it is not part of the first column's name
	}
	cr := csv.NewReader(buf) // keeps buf: it is already a bufio.Reader
	cr.FieldsPerRecord = -1  // a row of the wrong width is reported by p.record, with the header's width
	cr.ReuseRecord = true
	p := &parser{lim: l, in: in, cr: cr, seen: make(map[itemKey]int), limits: make(map[string]skuLimitSeen)}
	p.run()
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.rows, nil
}

type itemKey struct{ sku, store string }

// parser holds the state of one Parse.
type parser struct {
	lim    Limits
	in     *boundedReader
	cr     *csv.Reader
	cols   [numCols]int            // index of each column in a record; -1 = absent
	width  int                     // fields of the header, so of every row
	seen   map[itemKey]int         // line of the first row of each (sku, store)
	limits map[string]skuLimitSeen // each SKU's first limit (limits.go)
	read   int                     // data records read, bad ones included
	rows   []Row
	errs   []RowError
}

func (p *parser) run() {
	if !p.header() {
		return
	}
	for {
		rec, err := p.cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			if !p.readError(err) {
				return
			}
			continue
		}
		line, _ := p.cr.FieldPos(0)
		if p.read++; p.read > p.lim.MaxRows {
			p.fail(line, "", "more than %d rows; split the file or raise the limit", p.lim.MaxRows)
			return
		}
		p.record(line, rec)
		if p.tooManyErrors(line) {
			return
		}
	}
}

// tooManyErrors reports whether there are more errors than the limit; if so
// it keeps the first l.MaxErrors and says that it stopped.
func (p *parser) tooManyErrors(line int) bool {
	if len(p.errs) <= p.lim.MaxErrors {
		return false
	}
	p.errs = p.errs[:p.lim.MaxErrors]
	p.fail(line, "", "stopped after %d errors", p.lim.MaxErrors)
	return true
}

func (p *parser) fail(line int, col string, format string, args ...any) {
	p.errs = append(p.errs, RowError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)})
}

// header reads the header row and reports whether the rows can be read.
func (p *parser) header() bool {
	rec, err := p.cr.Read()
	if err == io.EOF {
		p.fail(1, "", "the file is empty; the first row must be the header (sku,store,stock,...)")
		return false
	}
	if err != nil {
		p.readError(err)
		return false
	}
	line, _ := p.cr.FieldPos(0)
	cols, msgs := header(rec)
	for _, m := range msgs {
		p.fail(line, "", "header: %s", m)
	}
	p.tooManyErrors(line) // a header of a thousand unknown names
	p.cols, p.width = cols, len(rec)
	return len(msgs) == 0
}

// readError records an error of the CSV reader and reports whether reading
// may go on: after malformed CSV the reader resumes at the next line; after
// a limit or an I/O error it may not.
func (p *parser) readError(err error) bool {
	var pe *csv.ParseError
	var le *limitError
	switch {
	case errors.As(err, &le):
		p.fail(le.line, "", "%s", le.msg)
		return false
	case errors.As(err, &pe):
		p.fail(pe.StartLine, "", "malformed CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
		if p.read++; p.read > p.lim.MaxRows {
			p.fail(pe.StartLine, "", "more than %d rows; split the file or raise the limit", p.lim.MaxRows)
			return false
		}
		return !p.tooManyErrors(pe.StartLine)
	default:
		p.fail(p.in.line, "", "reading the file: %v", err)
		return false
	}
}

// absentSettings are the item settings a header has no column for. The
// member share is one setting: any of its columns names it (and a share
// given in part is a bad row, check).
func absentSettings(cols *[numCols]int) engine.ItemSet {
	var a engine.ItemSet
	if cols[colOpensAt] < 0 {
		a |= engine.SetOpensAt
	}
	if cols[colClosesAt] < 0 {
		a |= engine.SetClosesAt
	}
	if cols[colMemberTier] < 0 && cols[colMemberUnits] < 0 && cols[colMemberCutoff] < 0 {
		a |= engine.SetMemberShare
	}
	return a
}

// record checks one data row and keeps it if it is good.
func (p *parser) record(line int, rec []string) {
	if len(rec) != p.width {
		p.fail(line, "", "has %d fields but the header has %d (a comma inside a cell needs the cell in double quotes)", len(rec), p.width)
		return
	}
	row, errs := parseRecord(rec, &p.cols)
	row.Line = line
	row.LimitGiven = p.cols[colLimit] >= 0
	row.Absent = absentSettings(&p.cols)
	key := itemKey{row.SKU, row.Store}
	if first, dup := p.seen[key]; dup {
		p.fail(line, "", "sku %q at store %q is already on line %d", row.SKU, row.Store, first)
	} else {
		p.seen[key] = line
	}
	for _, e := range errs {
		e.Line = line
		p.errs = append(p.errs, e)
	}
	if len(errs) == 0 {
		p.checkSKULimit(&row)
	}
	if len(errs) == 0 && len(p.errs) == 0 {
		p.rows = append(p.rows, row)
	}
	if len(p.errs) > 0 {
		p.rows = nil // nothing of a bad file is returned: let the memory go
	}
}

// limitError is a limit of Limits reached while reading.
type limitError struct {
	line int
	msg  string
}

func (e *limitError) Error() string { return e.msg }

// boundedReader counts bytes and lines of what it reads and fails once the
// file or a line is over its limit.
type boundedReader struct {
	r       io.Reader
	maxFile int64
	maxLine int
	read    int64 // bytes so far
	line    int   // line of the next byte, from 1
	lineLen int   // bytes of the current line so far
	err     error
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if room := b.maxFile - b.read + 1; int64(len(p)) > room {
		p = p[:room] // one byte past the limit is enough to know the file is over it
	}
	n, err := b.r.Read(p)
	for i := 0; i < n; i++ {
		if b.read == b.maxFile {
			b.err = &limitError{b.line, fmt.Sprintf("the file is larger than %d bytes; split it or raise the limit", b.maxFile)}
			return i, b.err
		}
		b.read++
		if p[i] == '\n' {
			b.line++
			b.lineLen = 0
			continue
		}
		if b.lineLen++; b.lineLen > b.maxLine {
			b.err = &limitError{b.line, fmt.Sprintf("the line is longer than %d bytes", b.maxLine)}
			return i, b.err
		}
	}
	return n, err
}
