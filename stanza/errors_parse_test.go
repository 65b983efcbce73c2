package stanza

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseStanzaError(t *testing.T) {
	tests := []struct {
		name string
		e    StanzaError
	}{
		{"plain", StanzaError{Type: TypeCancel, Condition: ItemNotFound}},
		{"full", StanzaError{Type: TypeWait, Condition: PolicyViolation, Text: "slow <down> & wait", Lang: "en", By: "example.com",
			App: []byte(`<too-many-stanzas xmlns='urn:xmpp:errors'/>`)}},
		{"gone", StanzaError{Type: TypeCancel, Condition: Gone, URI: "xmpp:romeo@example.net?a&b"}},
		{"redirect", StanzaError{Type: TypeModify, Condition: Redirect, URI: "xmpp:room@muc.example.org"}},
	}
	for _, tt := range tests {
		// Every condition round-trips, each test case's extras too.
		for c := StanzaCondition(1); c < numStanzaConditions; c++ {
			want := tt.e
			if tt.name == "plain" {
				want.Condition = c
			}
			msg := NewElement(NSClient, "message")
			msg.SetAttr("", "type", "error")
			raw := want.AppendXML(nil)
			el, err := ParseIn(raw, NSClient)
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			msg.AddChild(el)
			el.Release()
			got, err := ParseStanzaError(msg.Child(NSClient, "error"))
			msg.Release()
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %+v\nwant %+v", raw, got, want)
			}
			if tt.name != "plain" {
				break
			}
		}
	}
}

func TestParseStanzaErrorLenient(t *testing.T) {
	el := mustParse(t, `<error type='bogus'><made-up xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`)
	defer el.Release()
	got, err := ParseStanzaError(el)
	if err != nil || got.Condition != UndefinedCondition || got.Type != 0 || got.EffectiveType() != TypeCancel {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, raw := range []string{`<error type='cancel'/>`, `<error><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>x</text></error>`, `<notanerror/>`} {
		el := mustParse(t, raw)
		if _, err := ParseStanzaError(el); !errors.Is(err, ErrNoCondition) {
			t.Errorf("%s: err %v", raw, err)
		}
		el.Release()
	}
	if _, err := ParseStanzaError(nil); !errors.Is(err, ErrNoCondition) {
		t.Errorf("nil: %v", err)
	}
}

func TestParseStreamError(t *testing.T) {
	for c := StreamCondition(1); c < numStreamConditions; c++ {
		want := StreamError{Condition: c, Text: "why & how", Lang: "de", App: []byte(`<x xmlns='urn:app'/>`)}
		if c == StreamSeeOtherHost {
			want.Host = "b.example.com:5222"
		}
		raw := want.AppendFramedXML(nil)
		el := mustParse(t, string(raw))
		got, err := ParseStreamError(el)
		el.Release()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", raw, got, err, want)
		}
	}
	el := mustParse(t, `<stream:error xmlns:stream='http://etherx.jabber.org/streams'><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>x</text></stream:error>`)
	if _, err := ParseStreamError(el); !errors.Is(err, ErrNoCondition) {
		t.Errorf("no condition: %v", err)
	}
	el.Release()
}
