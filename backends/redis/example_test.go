package redis_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/redis"
)

// A node registers a session and keeps its heartbeat; any node reads where the user's
// resources are. (Not run: it needs a Redis server.)
func ExampleOpen() {
	reg, err := redis.Open(redis.Options{Addr: "127.0.0.1:6379", Prefix: "example:", TTL: 30 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close()
	ctx := context.Background()

	// At start: forget what an earlier run of this node left, then start the heartbeat.
	if _, err := reg.PurgeNode(ctx, "node-1"); err != nil {
		log.Fatal(err)
	}
	epoch, err := reg.Refresh(ctx, "node-1") // again every TTL/3; a new epoch means "register again"
	if err != nil {
		log.Fatal(err)
	}
	_ = epoch

	err = reg.Register(ctx, backends.Session{Domain: "example.com", User: "alice", Resource: "phone",
		Node: "node-1", Priority: 5, Available: true})
	if err != nil {
		log.Fatal(err)
	}
	ss, err := reg.UserSessions(ctx, "example.com", "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range ss {
		fmt.Println(s.Resource, s.Node, s.Priority, s.Available)
	}
}
