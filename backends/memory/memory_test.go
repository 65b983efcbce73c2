package memory

import (
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/backendtest"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backends.Store { return New() })
}
