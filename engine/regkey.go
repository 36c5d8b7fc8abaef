package engine

// Idempotency keys across shards (docs/adr/0073). A key's home is
// KeyShard(key): the number its "~hhhh" suffix names, or its hash, mod
// shards. A request whose key is homed on
// another shard than the one it runs on first registers the key at the
// home (OpRegisterKey, sent by the router): the home keeps the key with
// the request's fingerprint and the shard it runs on, in its idempotency
// table beside its own keys, aged out with them. The same key with other
// contents is then key_conflict whichever shards the two requests run on:
//
//   - a second registration of the key: OK if it is the same request (the
//     same fingerprint, the same shard: a retry), key_conflict if not;
//   - a registration of a key the home used for a command of its own:
//     key_conflict (that command ran here, the registering one elsewhere);
//   - a command of the home's own whose key is registered: key_conflict
//     (the registered request runs on another shard).

// KeyShard returns a key's home shard, the same function as
// protocol.ShardOfKey (the protocol's golden vectors check both): a key
// that ends in '~' and four lowercase hex digits is homed on that number
// mod shards; any other on FNV-1a 64 over len(key) as one byte and the
// key, mod shards (keys are at most MaxKeyBytes long, so the length byte
// is exact).
func KeyShard(key []byte, shards int) int {
	if h, ok := keyHome(key); ok {
		return int(h % uint64(shards))
	}
	return CustomerShard(key, shards)
}

// keyHome is protocol.KeyHome: the number a homed key's suffix names.
func keyHome(key []byte) (uint64, bool) {
	n := len(key)
	if n < 5 || key[n-5] != '~' {
		return 0, false
	}
	var h uint64
	for _, c := range key[n-4:] {
		switch {
		case '0' <= c && c <= '9':
			h = h<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			h = h<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return h, true
}

// registerKey runs OpRegisterKey on the key's home: Key, ID the request's
// fingerprint, ItemShard the shard the request runs on.
func (s *state) registerKey(c *Command) Result {
	if !validKey(c.Key) || int(c.ItemShard) >= s.cfg.Shards || c.ItemShard == s.cfg.ShardID ||
		KeyShard(c.Key, s.cfg.Shards) != int(s.cfg.ShardID) {
		return s.refuse(CodeBadRequest) // not a key homed here, or a request that runs here
	}
	e, hint := s.idem.findHashed(c.Key)
	if e == nil {
		s.idem.add(idemEntry{at: s.now, fp: c.ID, hash: hint.hash, over: hint.taken,
			reg: true, regShard: c.ItemShard}, c.Key)
		return Result{}
	}
	if e.reg && e.fp == c.ID && e.regShard == c.ItemShard {
		return Result{} // the same request again: a retry
	}
	return s.refuse(CodeKeyConflict)
}
