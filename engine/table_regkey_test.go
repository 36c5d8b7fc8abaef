// Table cases of the idempotency keys registered by requests of other
// shards (regkey.go), run by TestEngineTable with the others; the snapshot
// tests below restore registrations and read the last format's snapshots.
//
// What they prove: a registration of a key homed on the table's shard is
// kept: the same request again (fingerprint and shard) is OK and changes
// nothing, another fingerprint or another shard is key_conflict; a key the
// shard used for a command of its own cannot be registered, and a command
// of its own with a registered key is refused key_conflict and changes
// nothing (alone or in a linked group); registrations age out with the
// idempotency retention to the nanosecond; a registration that names no
// key homed here, or a shard that is this one or past the last, is a bad
// request. How: the steps of tbStep, on shard tbShard of tbShards.
package engine

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// tbKeyIn returns a key whose home is the table's shard (home) or another
// shard (!home), skipping the first skip of them.
func tbKeyIn(home bool, skip int) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("key-%d", i)
		if (KeyShard([]byte(k), tbShards) == tbShard) == home {
			if skip == 0 {
				return k
			}
			skip--
		}
	}
}

// tbFP is the fingerprint of a reserve of qty units of A/S1 by c1: the
// request that registers its key here runs on another shard.
func tbFP(qty int64) uint64 {
	return Fingerprint(&Command{Op: OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte("c1"), Qty: qty})
}

func (o tbOps) register(key string, fp uint64, shard uint16) tbStep {
	return o.cmd(Command{Op: OpRegisterKey, Key: []byte(key), ID: fp, ItemShard: shard})
}

func tbRegKeyTable() []tbCase {
	R := do.reserve
	k, k2, away := tbKeyIn(true, 0), tbKeyIn(true, 1), tbKeyIn(false, 0)
	c := func(name string, steps ...tbStep) tbCase { return tcc(name, tbClaimCfg, steps...) }
	return []tbCase{
		c("register_key: kept; the same request again is OK",
			do.register(k, tbFP(1), 1).res("ok").events(), do.register(k, tbFP(1), 1).at("1m").res("ok").events()),
		c("register_key: other contents with the key conflict",
			do.register(k, tbFP(1), 1), do.register(k, tbFP(2), 1).is(CodeKeyConflict),
			do.register(k, tbFP(1), 2).is(CodeKeyConflict), do.register(k, tbFP(1), 1).res("ok")),
		c("register_key: keys are apart", do.register(k, tbFP(1), 1), do.register(k2, tbFP(2), 2).res("ok")),
		c("register_key: a key of the shard's own command is not registered",
			R("A", "S1", "c1", 1).key(k).res("held id=1 qty=1 expires=10m"), do.register(k, tbFP(1), 1).is(CodeKeyConflict),
			R("A", "S1", "c1", 1).key(k).res("held id=1 qty=1 expires=10m").events()),
		c("register_key: the shard's own command with a registered key is refused",
			do.register(k, tbFP(2), 1), R("A", "S1", "c1", 1).key(k).is(CodeKeyConflict).events(),
			do.getItem("A", "S1").item("stock=10 available=10"), R("A", "S1", "c1", 2).key(k).is(CodeKeyConflict)),
		c("register_key: a linked group with a registered key fails whole",
			do.register(k, tbFP(2), 1), R("A", "S1", "c1", 1).linked().is(CodeLinkFailed),
			R("A", "S1", "c1", 1).key(k).is(CodeKeyConflict).events(), do.getItem("A", "S1").item("stock=10 available=10")),
		tcc("register_key: registrations age out with the idempotency retention",
			func(c *Config) { tbClaimCfg(c); c.IdempotencyRetention = time.Hour },
			do.register(k, tbFP(1), 1), do.register(k, tbFP(2), 1).at("59m59s").is(CodeKeyConflict),
			R("A", "S1", "c1", 1).key(k).at("59m59.999999999s").is(CodeKeyConflict),
			R("A", "S1", "c1", 1).key(k).at("1h").res("held id=1 qty=1 expires=1h10m")),
		tcc("register_key: an aged-out registration is taken anew",
			func(c *Config) { tbClaimCfg(c); c.IdempotencyRetention = time.Hour },
			do.register(k, tbFP(1), 1), do.register(k, tbFP(2), 2).at("1h").res("ok"),
			do.register(k, tbFP(1), 1).is(CodeKeyConflict)),
		c("register_key: a key homed on another shard is a bad request", do.register(away, tbFP(1), 1).is(CodeBadRequest)),
		c("register_key: a request of this shard is a bad request", do.register(k, tbFP(1), tbShard).is(CodeBadRequest)),
		c("register_key: a shard past the last is a bad request", do.register(k, tbFP(1), tbShards).is(CodeBadRequest)),
		c("register_key: no key is a bad request", do.register("", tbFP(1), 1).is(CodeBadRequest)),
		c("register_key: a 65-byte key is a bad request", do.register(key65, tbFP(1), 1).is(CodeBadRequest)),
	}
}

// TestRegisteredKeysInSnapshot: a restored engine keeps the registrations
// (their fingerprint and shard): the same request is OK, another one and
// the shard's own command key_conflict, and the restored engine's snapshot
// is the same bytes.
func TestRegisteredKeysInSnapshot(t *testing.T) {
	cfg := Config{ShardID: tbShard, Shards: tbShards, PickupSecret: tbSecret}
	e := New(cfg)
	k := tbKeyIn(true, 0)
	reg := func(x *Engine, fp uint64, shard uint16) Code {
		return refApply(x, tbT0, Command{Op: OpRegisterKey, Key: []byte(k), ID: fp, ItemShard: shard})[0].Code
	}
	if c := reg(e, tbFP(1), 1); c != OK {
		t.Fatalf("register: %v", c)
	}
	snap := tbSnapBytes(e)
	r, err := Restore(cfg, bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if again := tbSnapBytes(r); !bytes.Equal(again, snap) {
		t.Fatal("the restored engine's snapshot differs")
	}
	if c := reg(r, tbFP(1), 1); c != OK {
		t.Errorf("the same request after restore: %v", c)
	}
	if c := reg(r, tbFP(1), 2); c != CodeKeyConflict {
		t.Errorf("another shard after restore: %v", c)
	}
	own := refApply(r, tbT0, Command{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 1, Key: []byte(k)})[0]
	if own.Code != CodeKeyConflict {
		t.Errorf("own command after restore: %v", own.Code)
	}
}

// TestSnapshotFormat4Restores: a snapshot of format 4 (an entry's flags a
// bool, no registrations, no customer copies) restores: the same bytes,
// less the copies section, under the version byte 4 give back its keys. A version past 7 is refused.
func TestSnapshotFormat4Restores(t *testing.T) {
	cfg := Config{ShardID: tbShard, Shards: tbShards, PickupSecret: tbSecret}
	e := New(cfg)
	refApply(e, tbT0, Command{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 5, Key: []byte("k1")})
	v5 := tbSnapV5(t, e)
	// Format 4 had no customer copies section, the last: here its count 0,
	// one byte.
	v4 := append([]byte(nil), v5[:len(v5)-1]...)
	v4[len(snapMagicOld)] = 4
	r, err := Restore(cfg, bytes.NewReader(v4))
	if err != nil {
		t.Fatalf("format 4: %v", err)
	}
	if c := refApply(r, tbT0, Command{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 9, Key: []byte("k1")})[0].Code; c != CodeKeyConflict {
		t.Errorf("a key of the format-4 snapshot: %v", c)
	}
	bad := append([]byte(nil), tbSnapBytes(e)...)
	bad[len(snapMagicOld)] = 8
	if _, err := Restore(cfg, bytes.NewReader(bad)); err == nil {
		t.Error("format 8 restored")
	}
}
