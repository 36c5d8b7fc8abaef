package client

// Head is the shard's last applied raft index when the subscription began:
// every event at or below it was already in the feed then. A reader of the
// feed's past (invctl item history) has seen all of it once an event
// beyond Head arrives.
func (s *Subscription) Head() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}
