package protocol

import "github.com/invsys/inv/engine"

// Op is a frame's op code. A reply carries the op code of its request (with
// FlagReply set), so a client can decode it without remembering the request;
// ERROR and NOT_LEADER replace the op code when the request was not served.
//
// Domain ops are 0x10 + engine.Op, so the engine's op numbers are the wire's
// and neither table can drift from the other. Control ops sit below 0x10.
type Op uint8

const (
	OpHello     Op = 0x01 // handshake: version, token, compression; must come first
	OpPing      Op = 0x02 // liveness; the reply (pong) echoes the nonce
	OpBatch     Op = 0x03 // many domain ops in one frame, replies in one frame
	OpTopology  Op = 0x04 // shard count, hash, nodes, leaders and replicas
	OpSubscribe Op = 0x05 // start a shard's change feed from a position
	OpEvent     Op = 0x06 // one change of the feed (server to client)
	OpSnapshot  Op = 0x07 // operator: take a raft snapshot of every shard of the node now
	OpStatus    Op = 0x08 // operator: this node's raft state and indexes of each of its shards
	OpAdmin     Op = 0x09 // operator: membership and leadership of the shard groups (admin.go)
	OpShardCall Op = 0x0A // node to node: one domain command for one named shard (shardcall.go)
	OpError     Op = 0x0E // reply: the request was not served; code and message
	OpNotLeader Op = 0x0F // reply: this node does not lead the shard; leader hint

	// opDomainBase + engine.Op is a domain op's code (0x11 reserve .. 0x36 list_items).
	opDomainBase Op = 0x10
)

// DomainOp returns the wire op code of an engine op.
func DomainOp(op engine.Op) Op { return opDomainBase + Op(op) }

// Engine returns the engine op a domain op code stands for, and false for
// control ops, unknown codes and expire (the leader's timer proposes expiry;
// a client may not).
func (o Op) Engine() (engine.Op, bool) {
	if o <= opDomainBase {
		return 0, false
	}
	eop := engine.Op(o - opDomainBase)
	if !clientOp(eop) {
		return 0, false
	}
	return eop, true
}

// clientOp reports whether a client may send the engine op.
func clientOp(op engine.Op) bool { return op.Valid() && op != engine.OpExpire }

// Known reports whether o is an op code of this protocol version.
func (o Op) Known() bool {
	if o >= OpHello && o <= OpShardCall || o == OpError || o == OpNotLeader {
		return true
	}
	_, ok := o.Engine()
	return ok
}

var controlNames = [...]string{
	OpHello: "HELLO", OpPing: "PING", OpBatch: "BATCH", OpTopology: "TOPOLOGY",
	OpSubscribe: "SUBSCRIBE", OpEvent: "EVENT", OpSnapshot: "SNAPSHOT", OpStatus: "STATUS", OpAdmin: "ADMIN",
	OpShardCall: "SHARD_CALL", OpError: "ERROR", OpNotLeader: "NOT_LEADER",
}

// String returns the op's name: upper case for control ops, the engine's
// snake_case name for domain ops.
func (o Op) String() string {
	if int(o) < len(controlNames) && controlNames[o] != "" {
		return controlNames[o]
	}
	if o > opDomainBase {
		return engine.Op(o - opDomainBase).String()
	}
	return "op_0x" + hex2(uint8(o))
}

func hex2(b uint8) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// Flags is a frame header's flag byte.
//
//	bit 0     FlagReply: the server sent the frame (a reply, an EVENT)
//	bits 1-2  compression of the payload: 0 none, 1 S2, 2 zstd (3 is invalid)
//	bit 3     FlagStale: the request's reads may be served from any
//	          replica's applied state (docs/adr/0033)
//	bits 4-7  reserved, must be zero
type Flags uint8

const (
	FlagReply Flags = 0x01
	// FlagStale on a read (a read-only domain op, or a BATCH) lets any
	// replica, leader or follower, answer its read-only ops from the state
	// it has applied, which may lag the leader's. Writes are unaffected.
	FlagStale Flags = 0x08

	flagCompressionShift       = 1
	flagCompressionMask  Flags = 0x06
	flagsReserved        Flags = 0xF0
)

// Stale reports whether FlagStale is set.
func (f Flags) Stale() bool { return f&FlagStale != 0 }

// Compression returns the payload's compression.
func (f Flags) Compression() Compression {
	return Compression((f & flagCompressionMask) >> flagCompressionShift)
}

// WithCompression returns f with its compression bits set to c.
func (f Flags) WithCompression(c Compression) Flags {
	return f&^flagCompressionMask | Flags(c)<<flagCompressionShift&flagCompressionMask
}

// Compression names a payload compression.
type Compression uint8

const (
	CompressionNone Compression = 0
	CompressionS2   Compression = 1 // klauspost/compress/s2 block format: fast, modest ratio
	CompressionZstd Compression = 2 // zstd frame format: slower, better ratio
)

// String returns none, s2 or zstd.
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionS2:
		return "s2"
	case CompressionZstd:
		return "zstd"
	}
	return "compression_" + hex2(uint8(c))
}

// Valid reports whether c is a compression of this protocol version.
func (c Compression) Valid() bool { return c <= CompressionZstd }

// CompressionSet is HELLO's set of compressions a client accepts: bit c for
// Compression c (so S2 is 0x02 and zstd 0x04, the same bits the frame flags
// use). Bit 0 (none) is implied and must be zero.
type CompressionSet uint8

// Has reports whether the set holds c. None is always in the set.
func (s CompressionSet) Has(c Compression) bool {
	return c == CompressionNone || c.Valid() && s&(1<<c) != 0
}

// With returns the set with c added.
func (s CompressionSet) With(c Compression) CompressionSet {
	if c == CompressionNone || !c.Valid() {
		return s
	}
	return s | 1<<c
}

const compressionSetValid CompressionSet = 1<<CompressionS2 | 1<<CompressionZstd
