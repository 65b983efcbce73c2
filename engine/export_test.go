package engine

import "time"

// CompactNow compacts every connection on its loop, as the sweeper does after 5–10 s
// without traffic, and returns how many of them hold no scanner afterwards (parked).
// A connection closing meanwhile drops the posted task; it counts as not parked.
func CompactNow(s *Server) (parked int) {
	var conns []*conn
	s.conns.Range(func(c *conn, _ struct{}) bool {
		conns = append(conns, c)
		return true
	})
	// One slot per task: a loop never blocks on a reply nobody waits for.
	replies := make(chan bool, len(conns))
	for _, c := range conns {
		c.post(func() {
			c.compact()
			replies <- c.sc == nil
		})
	}
	timeout := time.After(2 * time.Second)
	for range conns {
		select {
		case p := <-replies:
			if p {
				parked++
			}
		case <-timeout:
			return parked
		}
	}
	return parked
}

// SameLoop reports whether the sessions bare/ra and bare2/rb are served by one event
// loop. Which loop takes a connection is the kernel's choice (each loop accepts on a
// SO_REUSEPORT socket of its own), so tests that need a placement log in again until
// they get it.
func SameLoop(s *Server, bareA, ra, bareB, rb string) (same, ok bool) {
	a, okA := s.sessions.LookupResource(bareA, ra)
	b, okB := s.sessions.LookupResource(bareB, rb)
	if !okA || !okB {
		return false, false
	}
	return a.gc.EventLoop() == b.gc.EventLoop(), true
}
