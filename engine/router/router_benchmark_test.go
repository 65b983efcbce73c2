package router

import (
	"strconv"
	"testing"
)

func BenchmarkLookupBytes(b *testing.B) {
	tab := New[*sess]()
	keys := make([][]byte, 10000)
	for i := range keys {
		k := "user" + strconv.Itoa(i) + "@example.com"
		keys[i] = []byte(k)
		tab.Bind(k, &sess{"r"}, true)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if len(tab.LookupBytes(keys[i%len(keys)])) != 1 {
				b.Fatal("missing")
			}
			i++
		}
	})
}
