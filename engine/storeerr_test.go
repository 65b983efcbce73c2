package engine_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

func TestStorageFailure(t *testing.T) {
	for _, c := range []struct {
		err  error
		typ  stanza.ErrorType
		text bool
	}{
		{fmt.Errorf("mysql: roster of a@b: %w", backends.ErrUnavailable), stanza.TypeWait, true},
		{errors.New("disk on fire"), 0, false},
		{fmt.Errorf("x: %w", backends.ErrNotFound), 0, false},
	} {
		e := engine.StorageFailure(c.err)
		if e.Condition != stanza.InternalServerError || e.Type != c.typ || (e.Text != "") != c.text {
			t.Errorf("StorageFailure(%v) = %+v", c.err, e)
		}
	}
}
