package shortlink

import "time"

// StartJanitor removes expired links every interval.
// TODO: make the janitor stoppable; it runs until the process exits.
func (s *Store) StartJanitor(interval time.Duration) {
	go func() {
		for range time.Tick(interval) {
			s.mu.Lock()
			for code, l := range s.links {
				if !l.Expires.IsZero() && s.now().After(l.Expires) {
					delete(s.links, code)
				}
			}
			s.mu.Unlock()
		}
	}()
}
