package jid_test

import (
	"errors"
	"fmt"

	"github.com/hermod-im/hermod/stanza/jid"
)

func Example() {
	j, err := jid.Parse("Juliet@Example.COM/Balcony")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(j)
	fmt.Println(j.Localpart(), j.Domainpart(), j.Resourcepart())
	fmt.Println(j.Bare(), j.DomainJID())

	// Different spellings of one address are one JID, and == says so.
	k := jid.MustParse("juliet@xn--exmple-cua.com./balcony")
	fmt.Println(k, k.Bare() == jid.MustParse("JULIET@EXÄMPLE.COM"))

	// Errors name the part that failed.
	_, err = jid.Parse("juliet@example.com/")
	var e *jid.Error
	fmt.Println(errors.As(err, &e), e.Part, errors.Is(err, jid.ErrEmpty))

	// Output:
	// juliet@example.com/Balcony
	// juliet example.com Balcony
	// juliet@example.com example.com
	// juliet@exämple.com/balcony true
	// true resourcepart true
}

func ExampleJID_EqualBytes() {
	session := jid.MustParse("juliet@example.com/balcony")
	// A "to" attribute as it sits in a read buffer: compared without
	// allocating when it is in normal form.
	to := []byte("juliet@example.com/balcony")
	fmt.Println(session.EqualBytes(to), session.Bare().EqualBytes(to))
	// Output: true false
}
