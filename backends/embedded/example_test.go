package embedded_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
)

func Example() {
	dir, err := os.MkdirTemp("", "hermod-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// Keys come from SCRAM's key derivation at registration; these are placeholders.
	keys := &backends.ScramKeys{Salt: []byte("16 random bytes!"), Iterations: 4096,
		StoredKey: make([]byte, sha256.Size), ServerKey: make([]byte, sha256.Size)}
	ctx := context.Background()
	alice := backends.Account{Domain: "example.org", User: "alice",
		Credentials: backends.Credentials{SHA256: keys}}
	if err := store.CreateAccount(ctx, alice); err != nil {
		log.Fatal(err)
	}
	err = store.CreateAccount(ctx, alice)
	fmt.Println("again:", errors.Is(err, backends.ErrExists))

	got, err := store.Account(ctx, "example.org", "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.User, got.Credentials.SHA256.Iterations, got.Credentials.SHA1 == nil)

	_, err = store.Account(ctx, "example.org", "bob")
	fmt.Println("bob:", errors.Is(err, backends.ErrNotFound))
	// Output:
	// again: true
	// alice 4096 true
	// bob: true
}
