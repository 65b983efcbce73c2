package engine

import "sync"

// CompactNow compacts every connection on its loop, as the sweeper does after 5–10 s
// without traffic, and returns how many of them hold no scanner afterwards (parked).
func CompactNow(s *Server) (parked int) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	s.conns.Range(func(c *conn, _ struct{}) bool {
		wg.Add(1)
		c.post(func() {
			defer wg.Done()
			c.compact()
			if c.sc == nil {
				mu.Lock()
				parked++
				mu.Unlock()
			}
		})
		return true
	})
	wg.Wait()
	return parked
}
