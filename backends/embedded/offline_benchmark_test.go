package embedded

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// benchMessage is a 200-byte chat message for user i of 1000.
func benchMessage(i int) backends.OfflineMessage {
	return backends.OfflineMessage{Domain: benchDomain, User: fmt.Sprintf("user%07d", i%1000), Stamp: time.Now(),
		Raw: fmt.Appendf(nil, "<message from='sender@example.org/phone' to='user%07d@example.org' type='chat' id='%08d'>"+
			"<body>Are you coming tonight? %08d</body><delay xmlns='urn:xmpp:delay' from='example.org' stamp='2026-11-26T19:00:00.000Z'>Offline Storage</delay></message>", i%1000, i, i)}
}

// BenchmarkAppendOffline measures offline writes, one call per message (the worst
// case, a lone writer paying a commit each) and batched as mod_offline's flush does.
// Reported: ns/op and allocs per message.
func BenchmarkAppendOffline(b *testing.B) {
	for _, batch := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := openBench(b)
			msgs := make([]backends.OfflineMessage, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				for j := range msgs {
					msgs[j] = benchMessage(i + j)
				}
				if _, err := s.AppendOffline(context.Background(), msgs, 0); err != nil {
					b.Fatal(err)
				}
				if (i/batch)%64 == 63 { // keep queues short, as deliveries do
					b.StopTimer()
					for u := range 1000 {
						_, _ = s.DeleteOffline(context.Background(), benchDomain, fmt.Sprintf("user%07d", u), math.MaxUint64-1)
					}
					b.StartTimer()
				}
			}
		})
	}
}

// BenchmarkOfflineDelivery is a login with 20 messages waiting: read them, then delete
// them.
func BenchmarkOfflineDelivery(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	msgs := make([]backends.OfflineMessage, 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := range msgs {
			msgs[j] = benchMessage(0)
		}
		if _, err := s.AppendOffline(ctx, msgs, 0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		got, err := s.OfflineMessages(ctx, benchDomain, "user0000000", 100)
		if err != nil || len(got) != 20 {
			b.Fatalf("%d messages, %v", len(got), err)
		}
		if _, err := s.DeleteOffline(ctx, benchDomain, "user0000000", got[len(got)-1].Seq); err != nil {
			b.Fatal(err)
		}
	}
}
