package stanza

import (
	"errors"
	"fmt"
)

// Reading errors that peers send: the reverse of AppendXML, for modules and
// server-to-server code that must react to an error reply or a stream error.

// ErrNoCondition is wrapped by the errors of ParseStanzaError and ParseStreamError
// for an error element without a defined condition element.
var ErrNoCondition = errors.New("stanza: error element without a condition")

// ParseStanzaError reads a stanza's <error/> child (the element itself, whatever
// namespace the stanza gave it). A condition element in the stanzas namespace that
// RFC 6120 does not define is read as UndefinedCondition, as the RFC asks of
// recipients; an unknown type is left zero (the condition's default). The first
// element in another namespace becomes App, serialised. Strings are copied out of
// the tree, so the result outlives Release.
func ParseStanzaError(e *Element) (StanzaError, error) {
	var se StanzaError
	if e == nil || string(e.Local()) != "error" {
		return se, fmt.Errorf("%w: not an <error/> element", ErrNoCondition)
	}
	if v, ok := e.Attr("", "type"); ok {
		se.Type, _ = ParseErrorType(v)
	}
	se.By, _ = e.Attr("", "by")
	for _, c := range e.Children() {
		if string(c.Space()) != NSStanzaErrors {
			if se.App == nil {
				se.App = c.AppendXML(nil)
			}
			continue
		}
		if string(c.Local()) == "text" {
			se.Text = c.Text()
			se.Lang, _ = c.Attr(NSXML, "lang")
			continue
		}
		if se.Condition != 0 {
			continue // only the first condition counts
		}
		cond, ok := ParseStanzaCondition(c.Local())
		if !ok {
			cond = UndefinedCondition
		}
		se.Condition = cond
		if cond == Gone || cond == Redirect {
			se.URI = c.Text()
		}
	}
	if se.Condition == 0 {
		return se, fmt.Errorf("%w: stanza error", ErrNoCondition)
	}
	return se, nil
}

// ParseStreamError reads a <stream:error/> element (parse it with its stream prefix
// declared, as RFC 7395 framing sends it, or after ParseIn of the stream header's
// bytes). An undefined condition element in the streams namespace is read as
// StreamUndefinedCondition; the first element in another namespace becomes App. The
// result outlives Release.
func ParseStreamError(e *Element) (StreamError, error) {
	var se StreamError
	if e == nil || string(e.Local()) != "error" {
		return se, fmt.Errorf("%w: not a <stream:error/> element", ErrNoCondition)
	}
	for _, c := range e.Children() {
		if string(c.Space()) != NSStreamErrors {
			if se.App == nil {
				se.App = c.AppendXML(nil)
			}
			continue
		}
		if string(c.Local()) == "text" {
			se.Text = c.Text()
			se.Lang, _ = c.Attr(NSXML, "lang")
			continue
		}
		if se.Condition != 0 {
			continue
		}
		cond, ok := ParseStreamCondition(c.Local())
		if !ok {
			cond = StreamUndefinedCondition
		}
		se.Condition = cond
		if cond == StreamSeeOtherHost {
			se.Host = c.Text()
		}
	}
	if se.Condition == 0 {
		return se, fmt.Errorf("%w: stream error", ErrNoCondition)
	}
	return se, nil
}
