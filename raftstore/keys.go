package raftstore

import "encoding/binary"

// Key layout of the node's Pebble instance. Every shard owns disjoint key
// ranges, so shards never see each other's data and a range operation on one
// shard (DeleteRange, FirstIndex, LastIndex) is bounded to its own prefix:
//
//	'l' shard(uint16 BE) index(uint64 BE)  -> encoded raft.Log   (logs)
//	's' shard(uint16 BE) key...            -> value              (stable store)
//	'e' shard(uint16 BE) index(uint64 BE) ordinal(uint32 BE)
//	                                       -> encoded engine.Event (change feed, as written before docs/adr/0125)
//	'g' shard(uint16 BE) index(uint64 BE)  -> the entry's encoded events (change feed)
//	'f' shard(uint16 BE)                   -> feed state          (change feed)
//	'm' name                               -> value               (the node's metadata: meta.go)
//
// The change feed's keys are described in feed.go and docs/adr/0014.
//
// Big-endian integers make Pebble's bytewise order equal numeric order, so the
// first and last log of a shard are the first and last key of its range.
const (
	prefixLog       byte = 'l'
	prefixStable    byte = 's'
	prefixEvent     byte = 'e'
	prefixFeedState byte = 'f'
	prefixEntryEvs  byte = 'g'

	shardPrefixLen = 1 + 2              // tag + shard
	logKeyLen      = shardPrefixLen + 8 // + index
	eventKeyLen    = logKeyLen + 4      // + ordinal
	maxStableKey   = 256                // raft's own keys are a dozen bytes; anything longer is a bug
)

// shardPrefix returns the 3-byte prefix of one shard's keys of kind tag.
func shardPrefix(tag byte, shard uint16) []byte {
	return []byte{tag, byte(shard >> 8), byte(shard)}
}

// shardPrefixEnd returns the first key after every key of the shard's range:
// the prefix of the next shard, or the next tag after the last shard.
func shardPrefixEnd(tag byte, shard uint16) []byte {
	if shard == 0xFFFF {
		return []byte{tag + 1}
	}
	return shardPrefix(tag, shard+1)
}

// appendIndexKey appends the key of kind tag of shard's raft index to dst:
// the layout of the log's keys and of the feed's entry keys.
func appendIndexKey(dst []byte, tag byte, shard uint16, index uint64) []byte {
	dst = append(dst, tag, byte(shard>>8), byte(shard))
	return binary.BigEndian.AppendUint64(dst, index)
}

// indexKeyIndex returns the raft index of a key appendIndexKey made with
// tag; ok is false when the key is not one (which a bounded iterator never
// yields unless the data is corrupt).
func indexKeyIndex(key []byte, tag byte) (index uint64, ok bool) {
	if len(key) != logKeyLen || key[0] != tag {
		return 0, false
	}
	return binary.BigEndian.Uint64(key[shardPrefixLen:]), true
}

// appendLogKey appends the key of log index of shard to dst.
func appendLogKey(dst []byte, shard uint16, index uint64) []byte {
	return appendIndexKey(dst, prefixLog, shard, index)
}

// logKeyIndex returns the index of a log key; ok is false when the key is
// not a log key.
func logKeyIndex(key []byte) (index uint64, ok bool) { return indexKeyIndex(key, prefixLog) }

// appendStableKey appends the stable-store key of shard's key k to dst.
func appendStableKey(dst []byte, shard uint16, k []byte) []byte {
	dst = append(dst, prefixStable, byte(shard>>8), byte(shard))
	return append(dst, k...)
}

// appendEventKey appends the change-feed key of the event at p of shard to dst.
func appendEventKey(dst []byte, shard uint16, p Position) []byte {
	dst = append(dst, prefixEvent, byte(shard>>8), byte(shard))
	dst = binary.BigEndian.AppendUint64(dst, p.Index)
	return binary.BigEndian.AppendUint32(dst, p.Ordinal)
}

// eventKeyPosition returns the position of an event key; ok is false when
// the key is not an event key.
func eventKeyPosition(key []byte) (p Position, ok bool) {
	if len(key) != eventKeyLen || key[0] != prefixEvent {
		return Position{}, false
	}
	return Position{
		Index:   binary.BigEndian.Uint64(key[shardPrefixLen:]),
		Ordinal: binary.BigEndian.Uint32(key[logKeyLen:]),
	}, true
}

// appendEntryEventsKey appends the change-feed key of the events of the
// entry at index of shard to dst.
func appendEntryEventsKey(dst []byte, shard uint16, index uint64) []byte {
	return appendIndexKey(dst, prefixEntryEvs, shard, index)
}

// entryEventsKeyIndex returns the index of an entry's events key; ok is
// false when the key is not one.
func entryEventsKeyIndex(key []byte) (index uint64, ok bool) {
	return indexKeyIndex(key, prefixEntryEvs)
}
