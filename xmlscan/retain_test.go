package xmlscan

import (
	"errors"
	"reflect"
	"testing"
	"unsafe"
)

// pointsInto reports the path of any slice or pointer reachable from v
// whose memory overlaps [lo, hi).
func pointsInto(v reflect.Value, lo, hi uintptr, path string) string {
	switch v.Kind() {
	case reflect.Slice:
		if v.Cap() > 0 {
			p := v.Pointer()
			end := p + uintptr(v.Cap())*v.Type().Elem().Size()
			if p < hi && end > lo {
				return path
			}
		}
		for i := range v.Len() {
			if r := pointsInto(v.Index(i), lo, hi, path+"[]"); r != "" {
				return r
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			if p := v.Pointer(); p >= lo && p < hi {
				return path
			}
			return pointsInto(v.Elem(), lo, hi, path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if r := pointsInto(v.Field(i), lo, hi, path+"."+v.Type().Field(i).Name); r != "" {
				return r
			}
		}
	case reflect.String, reflect.Interface, reflect.Map, reflect.Chan, reflect.Func:
		// The scanner holds none of these except constant strings.
	}
	return ""
}

// TestNoBufferReference checks after every call of Next and NextStanza
// that nothing in the scanner refers to the caller's buffer: a
// connection's buffer may be pooled and reused, and an idle scanner must
// not pin it.
func TestNoBufferReference(t *testing.T) {
	in := genStream(4, 40, true)
	for _, next := range []struct {
		name string
		f    func(*Scanner, []byte) (Token, error)
	}{{"Next", (*Scanner).Next}, {"NextStanza", (*Scanner).NextStanza}} {
		s := New(Limits{})
		buf := append([]byte(nil), in...)
		lo := uintptr(unsafe.Pointer(&buf[0]))
		hi := lo + uintptr(cap(buf))
		// Feed in two halves so that the scanner also stops inside a
		// stanza, holding a partial token.
		for _, n := range []int{len(buf) / 2, len(buf)} {
			for {
				_, err := next.f(s, buf[:n])
				if where := pointsInto(reflect.ValueOf(s).Elem(), lo, hi, "Scanner"); where != "" {
					t.Fatalf("%s: %s refers to the caller's buffer", next.name, where)
				}
				if errors.Is(err, ErrNeedMore) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestAttrAfterBufferReuse reads attributes after the caller has
// overwritten its buffer: they come from the scanner's own copies.
func TestAttrAfterBufferReuse(t *testing.T) {
	in := streamHeader + `<iq type='get' id='r1'><query xmlns='jabber:iq:roster' ver='v2'/></iq>`
	for _, next := range []func(*Scanner, []byte) (Token, error){(*Scanner).Next, (*Scanner).NextStanza} {
		s := New(Limits{})
		buf := []byte(in)
		seen := 0
		for {
			tok, err := next(s, buf)
			if err != nil {
				break
			}
			want := map[string]string{}
			seen += s.NumAttrs()
			for i := range s.NumAttrs() {
				a := s.Attr(i)
				want[string(a.Local)] = string(a.Value)
			}
			for i := range buf {
				buf[i] = 'Z'
			}
			for i := range s.NumAttrs() {
				a := s.Attr(i)
				if want[string(a.Local)] != string(a.Value) {
					t.Fatalf("%s: attribute %q = %q after the buffer changed, was %q", tok.Kind, a.Local, a.Value, want[string(a.Local)])
				}
			}
			if v, ok := s.AttrValue("", "type"); tok.Depth == 1 && tok.Kind == StartTag && (!ok || string(v) != "get") {
				t.Fatalf("type = %q %v", v, ok)
			}
			copy(buf, in)
		}
		if seen < 6 {
			t.Fatalf("%d attributes seen", seen)
		}
	}
}
