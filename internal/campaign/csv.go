package campaign

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The CSV format of client imports and exports (README, "Importing and
// exporting clients"): a header line naming the columns, in any order, then
// one client per record. encoding/csv reads quotes, commas and newlines in
// quoted fields and CRLF line ends; a lineCapReader in front of it bounds
// what a single line may hold, so a file of one huge line is refused after
// MaxImportLineBytes bytes instead of being read into memory.

// Import columns, as the header names them.
const (
	ColumnPhone        = "phone"
	ColumnTag          = "tag"
	ColumnTimezone     = "timezone"
	ColumnOperatorCode = "operator_code"
)

// importColumns are the columns an import file may have; only phone is required.
var importColumns = []string{ColumnPhone, ColumnTag, ColumnTimezone, ColumnOperatorCode}

// FieldFile and FieldHeader name what an ImportLineError is about when it
// is not a column: the file as a whole, or its header line.
const (
	FieldFile   = "file"
	FieldHeader = "header"
)

// ImportLineError is an invalid line of an import file: its number (the
// header is line 1; a quoted field's newlines count), the column
// (FieldHeader, FieldFile) and what is wrong.
type ImportLineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e ImportLineError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// fileError is a problem that stops a whole import (a bad header, a line too
// long, too many lines, broken CSV quoting): it is never skipped.
type fileError struct{ ImportLineError }

func fileErr(line int, field, format string, args ...any) *fileError {
	return &fileError{ImportLineError{Line: line, Field: field, Message: fmt.Sprintf(format, args...)}}
}

// lineCapReader passes its reader through and fails, naming the line, as
// soon as a line holds more than max bytes.
type lineCapReader struct {
	r    io.Reader
	max  int
	line int // the current line, from 1
	cur  int // bytes of the current line seen so far
}

func (l *lineCapReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			l.cur += n - i
			break
		}
		if l.cur+j > l.max {
			l.cur += j
			break
		}
		l.line++
		l.cur = 0
		i += j + 1
	}
	if l.cur > l.max {
		return 0, fileErr(l.line, FieldFile, "line %d is longer than %d bytes", l.line, l.max)
	}
	return n, err
}

// csvRow is one data record of an import file, its values by column.
type csvRow struct {
	line int
	// values holds the record's values; cols says which is which.
	values []string
}

// csvParser reads an import file's header, then its records one by one.
type csvParser struct {
	r        *csv.Reader
	cap      *lineCapReader
	maxLines int
	// col is the index of each column of importColumns in a record, -1
	// when the header does not name it.
	col   [4]int
	lines int
	// opt holds the current line's tag, timezone and operator code for
	// validate.
	opt [3]string
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// newCSVParser reads the header of an import file, its first line that is
// not blank. Its errors are *fileError naming the header's line: an empty
// file, an unknown, repeated or missing column.
func newCSVParser(src io.Reader, maxLines int) (*csvParser, error) {
	br := bufio.NewReaderSize(src, 64<<10)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	lc := &lineCapReader{r: br, max: MaxImportLineBytes, line: 1}
	p := &csvParser{r: csv.NewReader(lc), cap: lc, maxLines: maxLines, col: [4]int{-1, -1, -1, -1}}
	p.r.ReuseRecord = true
	header, err := p.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fileErr(1, FieldHeader, "the file is empty: the first line must be a header naming the columns %s", strings.Join(importColumns, ","))
	}
	if err != nil {
		return nil, p.fatal(err)
	}
	hl, _ := p.r.FieldPos(0) // 1 unless blank lines come first
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		k := -1
		for j, c := range importColumns {
			if c == name {
				k = j
			}
		}
		switch {
		case !utf8.ValidString(name):
			return nil, fileErr(hl, FieldHeader, "column %d is not valid UTF-8 text", i+1)
		case k < 0:
			return nil, fileErr(hl, FieldHeader, "unknown column %q: the columns are %s (phone required)", name, strings.Join(importColumns, ", "))
		case p.col[k] >= 0:
			return nil, fileErr(hl, FieldHeader, "column %q appears twice", name)
		}
		p.col[k] = i
	}
	if p.col[0] < 0 {
		return nil, fileErr(hl, FieldHeader, "missing column %q: the header must name phone and may name tag, timezone, operator_code", ColumnPhone)
	}
	p.r.FieldsPerRecord = len(header)
	return p, nil
}

// fatal turns an error of the CSV reader into the error of the import.
func (p *csvParser) fatal(err error) error {
	var fe *fileError
	if errors.As(err, &fe) {
		return fe
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileErr(pe.StartLine, FieldFile, "line %d is not valid CSV: %v", pe.StartLine, pe.Err)
	}
	return err
}

// next returns the next record, io.EOF after the last. A record whose field
// count is not the header's is returned with a line error (lineErr non-nil,
// err nil); anything else wrong stops the import (*fileError, or the
// reader's error).
func (p *csvParser) next() (row csvRow, lineErr *ImportLineError, err error) {
	rec, err := p.r.Read()
	if errors.Is(err, io.EOF) {
		return csvRow{}, nil, io.EOF
	}
	var pe *csv.ParseError
	if err != nil && !(errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount)) {
		return csvRow{}, nil, p.fatal(err)
	}
	line, _ := p.r.FieldPos(0)
	if pe != nil {
		line = pe.StartLine
	}
	p.lines++
	if p.lines > p.maxLines {
		return csvRow{}, nil, fileErr(line, FieldFile, "more than %d lines: the limit of one import is %d clients", p.maxLines, p.maxLines)
	}
	if pe != nil {
		return csvRow{line: line}, &ImportLineError{Line: line, Field: FieldFile, Message: fmt.Sprintf("has %d fields, the header has %d", len(rec), p.r.FieldsPerRecord)}, nil
	}
	return csvRow{line: line, values: rec}, nil, nil
}

// value returns the value of column k (an index of importColumns) and
// whether the record has one that is not empty.
func (p *csvParser) value(row csvRow, k int) (string, bool) {
	i := p.col[k]
	if i < 0 || row.values[i] == "" {
		return "", false
	}
	return row.values[i], true
}

// has reports whether the header names column k.
func (p *csvParser) has(k int) bool { return p.col[k] >= 0 }

// importRow is a valid client of an import file, defaults filled.
type importRow struct {
	line                               int
	phone, operatorCode, tag, timezone string
}

// validate checks a record as a single client is checked (ClientInput):
// an empty cell takes the default of its field. It returns the row, or the
// errors of the line, one per field, named by column.
func (p *csvParser) validate(row csvRow) (importRow, []ImportLineError) {
	var errs []ImportLineError
	for k, c := range importColumns {
		if v, ok := p.value(row, k); ok && !utf8.ValidString(v) {
			errs = append(errs, ImportLineError{Line: row.line, Field: c, Message: "is not valid UTF-8 text"})
		}
	}
	if len(errs) > 0 {
		return importRow{}, errs
	}
	// The optional values point into the parser (p.opt), not at a copy of
	// each per line: three allocations fewer a line, and the row takes the
	// values before the next line.
	in := ClientInput{}
	in.Phone, _ = p.value(row, 0)
	var ok bool
	if p.opt[0], ok = p.value(row, 1); ok {
		in.Tag = &p.opt[0]
	}
	if p.opt[1], ok = p.value(row, 2); ok {
		in.Timezone = &p.opt[1]
	}
	if p.opt[2], ok = p.value(row, 3); ok {
		in.OperatorCode = &p.opt[2]
	}
	in, v := in.normalized()
	for _, f := range v.Fields {
		errs = append(errs, ImportLineError{Line: row.line, Field: columnOf(f.Field), Message: f.Message})
	}
	if len(errs) > 0 {
		return importRow{}, errs
	}
	return importRow{line: row.line, phone: in.Phone, operatorCode: *in.OperatorCode, tag: *in.Tag, timezone: *in.Timezone}, nil
}

// columnOf is the CSV column of a ClientInput field.
func columnOf(field string) string {
	if field == "operatorCode" {
		return ColumnOperatorCode
	}
	return field
}
