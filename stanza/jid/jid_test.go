package jid

import (
	"encoding"
	"errors"
	"strings"
	"testing"
)

func TestAccessors(t *testing.T) {
	tests := []struct {
		in                   string
		bare, domain         string
		isBare, isDomain     bool
		local, dpart, rspart string
	}{
		{in: "juliet@example.com/balcony", bare: "juliet@example.com", domain: "example.com", local: "juliet", dpart: "example.com", rspart: "balcony"},
		{in: "juliet@example.com", bare: "juliet@example.com", domain: "example.com", isBare: true, local: "juliet", dpart: "example.com"},
		{in: "example.com/r/s", bare: "example.com", domain: "example.com", dpart: "example.com", rspart: "r/s"},
		{in: "example.com", bare: "example.com", domain: "example.com", isBare: true, isDomain: true, dpart: "example.com"},
		{in: "a@b/c", bare: "a@b", domain: "b", local: "a", dpart: "b", rspart: "c"},
	}
	for _, tc := range tests {
		j := MustParse(tc.in)
		if got := j.Bare(); got.String() != tc.bare || got != MustParse(tc.bare) {
			t.Errorf("%q.Bare() = %q, want %q", tc.in, got, tc.bare)
		}
		if got := j.DomainJID(); got.String() != tc.domain || got != MustParse(tc.domain) {
			t.Errorf("%q.DomainJID() = %q, want %q", tc.in, got, tc.domain)
		}
		if j.IsBare() != tc.isBare || j.IsDomain() != tc.isDomain || j.IsZero() {
			t.Errorf("%q: IsBare %v IsDomain %v IsZero %v", tc.in, j.IsBare(), j.IsDomain(), j.IsZero())
		}
		if j.Localpart() != tc.local || j.Domainpart() != tc.dpart || j.Resourcepart() != tc.rspart {
			t.Errorf("%q: parts %q %q %q", tc.in, j.Localpart(), j.Domainpart(), j.Resourcepart())
		}
		if got := string(j.AppendTo([]byte("to='"))); got != "to='"+tc.in {
			t.Errorf("%q.AppendTo = %q", tc.in, got)
		}
		if b := j.Bare(); b.Bare() != b || b.Resourcepart() != "" || b.Localpart() != tc.local {
			t.Errorf("%q: Bare is not idempotent or loses the localpart", tc.in)
		}
	}
}

func TestZeroJID(t *testing.T) {
	var z JID
	if !z.IsZero() || !z.IsBare() || z.IsDomain() || z.String() != "" || z.Localpart() != "" ||
		z.Domainpart() != "" || z.Resourcepart() != "" || z.Bare() != z || z.DomainJID() != z {
		t.Fatal("zero JID accessors are not all empty")
	}
	if _, err := z.WithResource("r"); !errors.Is(err, ErrEmpty) {
		t.Fatalf("zero.WithResource error = %v, want ErrEmpty", err)
	}
	if z.EqualBytes(nil) || z.EqualBytes([]byte("")) || z.EqualBytes([]byte("a")) {
		t.Fatal("zero JID equals some bytes")
	}
}

func TestEqualityAndMapKey(t *testing.T) {
	spellings := []string{
		"juliet@example.com/balcony",
		"Juliet@EXAMPLE.com/balcony",
		"JULIET@example.com./balcony",
		"\uff2a\uff35\uff2c\uff29\uff25\uff34@example.com/balcony",
		"juliet@example\u3002com/balcony",
	}
	m := map[JID]int{}
	first := MustParse(spellings[0])
	for i, s := range spellings {
		j := MustParse(s)
		if j != first || !j.Equal(first) {
			t.Fatalf("%q parsed to %q, want %q", s, j, first)
		}
		m[j] = i
	}
	if len(m) != 1 {
		t.Fatalf("map holds %d keys for one address", len(m))
	}
	for _, other := range []string{"juliet@example.com/Balcony", "juliet@example.com", "romeo@example.com/balcony", "example.com/balcony"} {
		if MustParse(other) == first {
			t.Fatalf("%q == %q", other, first)
		}
	}
}

func TestEqualBytes(t *testing.T) {
	j := MustParse("juliet@example.com/balcony")
	tests := []struct {
		b    string
		want bool
	}{
		{"juliet@example.com/balcony", true},
		{"Juliet@Example.com/balcony", true},
		{"juliet@example.com./balcony", true},
		{"juliet@example.com/Balcony", false},
		{"JULIET@EXAMPLE.COM/balcony", true},
		{"JULIET@EXAMPLE.COM/BALCONY", false},
		{"JULIET@EXAMPLE.COM/balcon", false},
		{"JULIET@EXAMPLE.CO/balcony", false},
		{"JULIET@EXAMPLE.COMM/balcony", false},
		{"juliet@example.com/balcony/", false},
		{"juliet@example.com", false},
		{"romeo@example.com/balcony", false},
		{"juliet@example.com/", false},
		{"", false},
		{"\xff", false},
	}
	for _, tc := range tests {
		if got := j.EqualBytes([]byte(tc.b)); got != tc.want {
			t.Errorf("EqualBytes(%q) = %v, want %v", tc.b, got, tc.want)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		local, domain, resource string
		want                    string
		part                    Part
		cause                   error
	}{
		{local: "Juliet", domain: "Example.com", resource: "Balcony", want: "juliet@example.com/Balcony"},
		{domain: "example.com", want: "example.com"},
		{domain: "example.com", resource: "a/b@c", want: "example.com/a/b@c"},
		{local: "\u03a3", domain: "xn--bcher-kva.example.", want: "\u03c3@b\u00fccher.example"},
		{local: "a@b", domain: "example.com", part: PartLocal, cause: ErrForbidden},
		{local: "a/b", domain: "example.com", part: PartLocal, cause: ErrForbidden},
		{local: "a", domain: "b@c", part: PartDomain, cause: ErrDisallowed},
		{local: "a", domain: "b/c", part: PartDomain, cause: ErrDisallowed},
		{local: "a", domain: "", part: PartDomain, cause: ErrEmpty},
		{local: "a", domain: "b", resource: "\x01", part: PartResource, cause: ErrDisallowed},
	}
	for _, tc := range tests {
		j, err := New(tc.local, tc.domain, tc.resource)
		if tc.want != "" {
			if err != nil || j.String() != tc.want {
				t.Errorf("New(%q, %q, %q) = %q, %v; want %q", tc.local, tc.domain, tc.resource, j, err, tc.want)
				continue
			}
			if p := MustParse(j.String()); p != j {
				t.Errorf("New(%q, %q, %q) = %#v, Parse of its string = %#v", tc.local, tc.domain, tc.resource, j, p)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Part != tc.part || !errors.Is(err, tc.cause) {
			t.Errorf("New(%q, %q, %q) error = %v, want part %v cause %v", tc.local, tc.domain, tc.resource, err, tc.part, tc.cause)
		}
	}
}

func TestWithResource(t *testing.T) {
	j := MustParse("juliet@example.com/balcony")
	tests := []struct {
		r, want string
		cause   error
	}{
		{r: "chamber", want: "juliet@example.com/chamber"},
		{r: "A\u030a", want: "juliet@example.com/\u00c5"},
		{r: "x/y", want: "juliet@example.com/x/y"},
		{r: "", want: "juliet@example.com"},
		{r: "\x7f", cause: ErrDisallowed},
		{r: strings.Repeat("r", MaxPartLen+1), cause: ErrTooLong},
	}
	for _, tc := range tests {
		got, err := j.WithResource(tc.r)
		if tc.cause != nil {
			if !errors.Is(err, tc.cause) {
				t.Errorf("WithResource(%q) error = %v, want %v", tc.r, err, tc.cause)
			}
			continue
		}
		if err != nil || got.String() != tc.want || got != MustParse(tc.want) {
			t.Errorf("WithResource(%q) = %#v, %v; want %q", tc.r, got, err, tc.want)
		}
	}
	d := MustParse("example.com")
	if got, err := d.WithResource("r"); err != nil || got != MustParse("example.com/r") {
		t.Errorf("domain WithResource = %#v, %v", got, err)
	}
}

func TestTextMarshaling(t *testing.T) {
	var _ encoding.TextMarshaler = JID{}
	var _ encoding.TextUnmarshaler = (*JID)(nil)
	var j JID
	if err := j.UnmarshalText([]byte("Juliet@Example.com/r")); err != nil || j.String() != "juliet@example.com/r" {
		t.Fatalf("UnmarshalText = %q, %v", j, err)
	}
	b, err := j.MarshalText()
	if err != nil || string(b) != "juliet@example.com/r" {
		t.Fatalf("MarshalText = %q, %v", b, err)
	}
	if err := j.UnmarshalText([]byte("@x")); err == nil || j.String() != "juliet@example.com/r" {
		t.Fatalf("UnmarshalText of an invalid address = %v and changed the JID to %q", err, j)
	}
	if err := j.UnmarshalText(nil); err != nil || !j.IsZero() {
		t.Fatalf("UnmarshalText(nil) = %q, %v; want the zero JID", j, err)
	}
}

func TestParseBytes(t *testing.T) {
	for _, s := range []string{"juliet@example.com/balcony", "Juliet@example.com", "xn--bcher-kva.example", "a@b/\u00c5"} {
		buf := []byte(s)
		j, err := ParseBytes(buf)
		want := MustParse(s)
		if err != nil || j != want {
			t.Fatalf("ParseBytes(%q) = %#v, %v; want %#v", s, j, err, want)
		}
		// The JID must not alias the caller's buffer.
		for i := range buf {
			buf[i] = 'x'
		}
		if j != want {
			t.Fatalf("ParseBytes(%q) result changed when its input buffer was overwritten: %q", s, j)
		}
	}
	if _, err := ParseBytes([]byte("juliet@")); !errors.Is(err, ErrEmpty) {
		t.Fatalf("ParseBytes(juliet@) error = %v", err)
	}
}

func TestErrorText(t *testing.T) {
	_, err := Parse("secret\u265a@example.com")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "jid: invalid localpart: ") || strings.Contains(msg, "secret") {
		t.Fatalf("error text %q: want the part named and the input not echoed", msg)
	}
	for p, name := range map[Part]string{PartAddress: "address", PartLocal: "localpart", PartDomain: "domainpart", PartResource: "resourcepart", Part(9): "unknown part"} {
		if p.String() != name {
			t.Errorf("Part(%d).String() = %q, want %q", p, p, name)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse of an invalid address did not panic")
		}
	}()
	MustParse("@")
}
