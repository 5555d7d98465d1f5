package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// source is where one row of an input file came from, for messages.
type source struct {
	// Line is the 1-based line of the row, or of the start of the feature.
	Line int
	// Feature is the 1-based number of the feature in a GeoJSON
	// FeatureCollection, or 0 for line-oriented formats.
	Feature int
}

func (s source) String() string {
	switch {
	case s.Feature > 0 && s.Line > 0:
		return fmt.Sprintf("feature %d (line %d)", s.Feature, s.Line)
	case s.Feature > 0:
		return fmt.Sprintf("feature %d", s.Feature)
	}
	return fmt.Sprintf("line %d", s.Line)
}

// inputError is one malformed row of an input file.
type inputError struct {
	Src source
	Msg string
}

func (e *inputError) Error() string { return e.Src.String() + ": " + e.Msg }

// maxInputErrors bounds how many malformed rows one parse reports; the rest
// are only counted.
const maxInputErrors = 20

// inputErrors is every malformed row of an input file (the first
// maxInputErrors of them; Total counts all). A file with any malformed row
// is not sent at all.
type inputErrors struct {
	Errs  []*inputError
	Total int
	// Hint, if set, is advice printed after the errors.
	Hint string
}

func (e *inputErrors) Error() string {
	var b strings.Builder
	for i, x := range e.Errs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(x.Error())
	}
	if more := e.Total - len(e.Errs); more > 0 {
		fmt.Fprintf(&b, "\n... and %d more", more)
	}
	if e.Hint != "" {
		b.WriteString("\n" + e.Hint)
	}
	return b.String()
}

// errList collects the malformed rows of one parse.
type errList struct{ e inputErrors }

func (l *errList) add(src source, format string, args ...any) {
	l.e.Total++
	if len(l.e.Errs) < maxInputErrors {
		l.e.Errs = append(l.e.Errs, &inputError{Src: src, Msg: fmt.Sprintf(format, args...)})
	}
}

func (l *errList) hint(h string) { l.e.Hint = h }

// err returns nil if no row was malformed, else an *inputErrors.
func (l *errList) err() error {
	if l.e.Total == 0 {
		return nil
	}
	e := l.e
	return &e
}

// openInput opens path for reading; "-" is stdin. The reader skips a
// UTF-8 byte order mark at the start (skipBOM). The returned close
// function is always safe to call.
func openInput(path string, stdin io.Reader) (io.Reader, func(), error) {
	if path == "-" {
		return skipBOM(stdin), func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, func() {}, err
	}
	return skipBOM(f), func() { f.Close() }, nil
}

// utf8BOM is the UTF-8 encoding of U+FEFF, the byte order mark.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// skipBOM returns r without a UTF-8 byte order mark at its start. Windows
// Notepad and Excel write one before UTF-8 text; no input format takes it
// (JSON forbids it, and in a CSV file it would stick to the first header
// cell or, before a quote, break the row), and it is not a character of
// the content. Lines and columns in messages count from after it, as an
// editor shows the file. Every input file is read through it, whatever its
// format, so each parser need not know of it.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	return br
}

// formatOf returns the input format: explicit if set, else from the file
// extension through byExt. It fails for stdin without an explicit format.
func formatOf(path, explicit string, byExt map[string]string, valid ...string) (string, error) {
	if explicit != "" {
		for _, v := range valid {
			if explicit == v {
				return v, nil
			}
		}
		return "", fmt.Errorf("unknown --format %q (want %s)", explicit, strings.Join(valid, " or "))
	}
	if path == "-" {
		return "", fmt.Errorf("reading stdin: give --format (%s)", strings.Join(valid, " or "))
	}
	ext := strings.ToLower(filepath.Ext(path))
	if f, ok := byExt[ext]; ok {
		return f, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s from its extension: give --format (%s)", path, strings.Join(valid, " or "))
}

// parseFloat parses a decimal number (surrounding spaces allowed). NaN and
// infinities are refused: they are never meaningful in a file.
func parseFloat(s string) (float64, error) {
	s = strings.TrimSpace(s)
	f, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return f, nil
}

// bomless strips a UTF-8 byte order mark from the start of s, which
// spreadsheet exports often write before a CSV header.
func bomless(s string) string { return strings.TrimPrefix(s, "\ufeff") }
