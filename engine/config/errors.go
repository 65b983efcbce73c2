package config

import (
	"errors"
	"fmt"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// Error is one problem found in a configuration: where it is and what is wrong.
type Error struct {
	// File is the name given to Parse or Load; empty for a Config built in code.
	File string
	// Line and Column are 1-based. Line is 0 when the value did not come from the
	// file (a default, or a command-line override).
	Line, Column int
	// Key is the dotted path of the offending key, e.g. "listen.c2s[0].tls".
	Key string
	// Msg says what is wrong and, where it helps, what would be right.
	Msg string
	// Context is an optional multi-line excerpt of the file around the problem.
	Context string
}

// Error formats the problem as "file:line:col: key: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one pass, in file order where the positions
// are known. Load, Parse, Validate and DecodeModule return it as their error.
type ErrorList []*Error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find each *Error.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// errs collects problems during one validation pass, attaching positions from the
// file's index.
type errs struct {
	file string
	idx  *index
	list ErrorList
}

// at records a problem with the key path p.
func (c *errs) at(p path, format string, args ...any) {
	e := &Error{File: c.file, Key: p.String(), Msg: fmt.Sprintf(format, args...)}
	if pos, ok := c.idx.lookup(p); ok {
		e.Line, e.Column = pos.line, pos.col
	}
	c.list = append(c.list, e)
}

func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	c.list.SortByPosition()
	return c.list
}

// SortByPosition orders positioned errors by line, keeping unpositioned ones (defaults
// and overrides) after them in the order found. Insertion sort: lists are short.
func (l ErrorList) SortByPosition() {
	less := func(a, b *Error) bool {
		switch {
		case a.Line == 0:
			return false
		case b.Line == 0:
			return true
		case a.Line != b.Line:
			return a.Line < b.Line
		}
		return a.Column < b.Column
	}
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && less(l[j], l[j-1]); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// fromDecodeError turns go-toml's errors (syntax, type mismatch, unknown field) into an
// ErrorList with the file name and position. Errors of any other type are wrapped with
// the file name only.
func fromDecodeError(file string, idx *index, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		list := make(ErrorList, 0, len(strict.Errors))
		for i := range strict.Errors {
			de := &strict.Errors[i]
			list = append(list, decodeErrorEntry(file, idx, de, "unknown key (not a Hermod setting here; check spelling and table)"))
		}
		list.SortByPosition()
		return list
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		return ErrorList{decodeErrorEntry(file, idx, de, "")}
	}
	return fmt.Errorf("%s: %w", file, err)
}

func decodeErrorEntry(file string, idx *index, de *toml.DecodeError, msg string) *Error {
	line, col := de.Position()
	if msg == "" {
		msg = strings.TrimPrefix(de.Error(), "toml: ")
	}
	return &Error{
		File:    file,
		Line:    line,
		Column:  col,
		Key:     idx.keyAt(line, col, de.Key()),
		Msg:     msg,
		Context: de.String(),
	}
}

// keyString renders a go-toml key (no array indices known) as a dotted path.
func keyString(k toml.Key) string {
	var p path
	for _, s := range k {
		p = p.key(s)
	}
	return p.String()
}
