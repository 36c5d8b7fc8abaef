package engine

// storeHash is protocol.StoreHash (FNV-1a 64 over the store's length byte
// and bytes), which places a store's items on shard storeHash % shards
// (docs/adr/0071). The engine needs it to know whether it is a store's
// shard; protocol's tests pin the two together.
func storeHash(store []byte) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	h = (h ^ uint64(byte(len(store)))) * prime
	for _, b := range store {
		h = (h ^ uint64(b)) * prime
	}
	return h
}

// StoreHash is the placement hash of a store id (protocol.StoreHash).
func StoreHash(store []byte) uint64 { return storeHash(store) }

// isStoreShard reports whether this shard holds the store's items: a
// code-only pickup at the store that names nothing here is counted as a
// refusal by that shard alone (docs/adr/0103), not once per shard asked.
func (s *state) isStoreShard(store []byte) bool {
	return s.cfg.Shards <= 1 || storeHash(store)%uint64(s.cfg.Shards) == uint64(s.cfg.ShardID)
}
