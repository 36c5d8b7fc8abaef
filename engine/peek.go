package engine

// Peek reads what the coordinator of a reserve decides by (docs/adr/0070),
// from the applied state, without a commit and without allocating: the
// units available to everyone now (0 outside the item's sale window, at
// the time of the last applied batch) and the SKU's per-customer limit (0:
// none). ok is false for an unknown item or malformed ids.
//
// It only reads, with a key buffer of its own, so that the caller may run
// several Peeks at once under a shared lock while no Apply runs.
func (e *Engine) Peek(sku, store []byte) (available, limit int64, ok bool) {
	s := &e.st
	if !validID(sku) || !validID(store) {
		return 0, 0, false
	}
	var buf [1 + 2*MaxIDBytes]byte
	key := append(buf[:0], byte(len(sku)))
	key = append(key, sku...)
	key = append(key, store...)
	_, it := s.lookupItem(key)
	if it == nil {
		return 0, 0, false
	}
	if (it.opensAt == 0 || s.now >= it.opensAt) && (it.closesAt == 0 || s.now < it.closesAt) {
		available = int64(it.available())
	}
	return available, int64(s.skuLimit(it)), true
}
