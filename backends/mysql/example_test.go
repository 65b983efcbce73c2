package mysql_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/mysql"
)

// Open a store, applying migrations, with a pipeline that waits up to 2ms to gather
// offline messages, and tell an outage from other failures.
func Example() {
	ctx := context.Background()
	s, err := mysql.Open(ctx, mysql.Options{
		DSN:          "hermod:secret@tcp(127.0.0.1:3306)/hermod",
		MaxOpenConns: 64,
		QueryTimeout: 3 * time.Second,
		Migrate:      true,
		Pipeline:     mysql.PipelineOptions{MaxBatchRows: 256, MaxDelay: 2 * time.Millisecond},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	_, err = s.AppendOffline(ctx, []backends.OfflineMessage{{
		Domain: "example.org", User: "juliet", Raw: []byte("<message to='juliet@example.org'><body>hi</body></message>"),
	}}, 100)
	switch {
	case errors.Is(err, backends.ErrUnavailable):
		// Answer the sender with wait/internal-server-error; nothing to clean up.
	case err != nil:
		log.Print(err)
	}
}
