package roster

// queue holds the tasks of one account waiting to run on a worker, in order. A queue
// exists while its account has a task running or waiting.
type queue struct {
	tasks []func()
}

// enqueue runs fn on a worker after every task enqueued before it under the same key,
// so that the subscription stanzas of one user take effect in the order sent (the pool
// alone would run them in any order). It returns false, without running fn, when the
// key has maxQueued tasks waiting or the worker pool is full. Safe from event loops.
func (s *Service) enqueue(key string, fn func()) bool {
	s.mu.Lock()
	if q := s.queues[key]; q != nil {
		if len(q.tasks) >= maxQueued {
			s.mu.Unlock()
			return false
		}
		q.tasks = append(q.tasks, fn)
		s.mu.Unlock()
		return true
	}
	s.queues[key] = &queue{}
	s.mu.Unlock()
	if !s.h.Go(func() { s.drain(key, fn) }) {
		s.mu.Lock()
		delete(s.queues, key)
		s.mu.Unlock()
		return false
	}
	return true
}

// drain runs first and then the key's queued tasks until none is left. Worker.
func (s *Service) drain(key string, first func()) {
	fn := first
	for {
		s.run(fn)
		s.mu.Lock()
		q := s.queues[key]
		if len(q.tasks) == 0 {
			delete(s.queues, key)
			s.mu.Unlock()
			return
		}
		fn = q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		s.mu.Unlock()
	}
}

// run calls fn, logging a panic instead of letting it take the queue down with it.
func (s *Service) run(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			s.h.Log().Error("roster: subscription task panicked", "panic", r)
		}
	}()
	fn()
}
