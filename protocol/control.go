package protocol

import "github.com/invsys/inv/engine"

// Control frames: HELLO, PING, ERROR and NOT_LEADER. They are rare next to
// domain ops, so their decoders use strings (allocating) for ease of use.

// Hello is the first request of every connection; a server answers any
// other op before it with ERROR no_hello.
type Hello struct {
	Version  uint16         // protocol version the client speaks (ProtocolVersion)
	MaxFrame uint32         // largest frame the client accepts; 0 = DefaultMaxFrameBytes
	Accept   CompressionSet // compressions the client can decode
	Token    string         // auth token; its role decides which ops the connection may send
	Client   string         // client name and version, for logs and metrics
}

// HelloReply is the server's answer to HELLO.
type HelloReply struct {
	Version     uint16      // protocol version the connection speaks: min(client's, server's)
	Compression Compression // what the server will use for large frames, from Hello.Accept (or none)
	NodeID      uint32      // this node's id, as in TOPOLOGY
	Server      string      // server name and version
	Limits      Limits      // what the server enforces on this connection
}

// Limits are the bounds a server enforces on a connection; a client stays
// within them instead of discovering them through refusals.
type Limits struct {
	MaxFrame         uint32 // largest frame the server accepts (header included)
	MaxBatchOps      uint16 // entries per BATCH
	MaxInFlight      uint32 // requests a connection may have outstanding; more get ERROR busy
	MaxIDBytes       uint8
	MaxKeyBytes      uint8
	CompressMinBytes uint32 // payloads at least this large are worth compressing; 0 = never compress
}

// AppendHello appends a HELLO request. Payload: version u16, max_frame u32,
// accept u8, token str16, client str8.
func AppendHello(dst []byte, reqID uint32, h *Hello) []byte {
	dst, start := beginFrame(dst, OpHello, 0, reqID)
	dst = appendU16(dst, h.Version)
	dst = appendU32(dst, h.MaxFrame)
	if h.Accept&^compressionSetValid != 0 {
		panic("protocol: encoding HELLO with unknown compressions")
	}
	dst = appendU8(dst, uint8(h.Accept))
	dst = appendStr16(dst, h.Token, MaxTokenBytes, "token")
	dst = appendStr8(dst, h.Client, MaxNameBytes, "client name")
	return finishFrame(dst, start)
}

// DecodeHello decodes a HELLO request payload (the strings are copied).
func DecodeHello(payload []byte, h *Hello) error {
	c := cursor{b: payload}
	h.Version = c.u16()
	h.MaxFrame = c.u32()
	h.Accept = CompressionSet(c.u8())
	if h.Accept&^compressionSetValid != 0 {
		c.fail(malformed("HELLO accepts an unknown compression"))
	}
	h.Token = string(c.str16(MaxTokenBytes, "token bytes"))
	h.Client = string(c.str8(MaxNameBytes, "client name bytes"))
	return c.end()
}

// AppendHelloReply appends the reply to HELLO. Payload: version u16,
// compression u8, node_id u32, server str8, then the limits: max_frame u32,
// max_batch_ops u16, max_in_flight u32, max_id_bytes u8, max_key_bytes u8,
// compress_min_bytes u32.
func AppendHelloReply(dst []byte, reqID uint32, h *HelloReply) []byte {
	dst, start := beginFrame(dst, OpHello, FlagReply, reqID)
	dst = appendU16(dst, h.Version)
	if !h.Compression.Valid() {
		panic("protocol: encoding HELLO reply with an unknown compression")
	}
	dst = appendU8(dst, uint8(h.Compression))
	dst = appendU32(dst, h.NodeID)
	dst = appendStr8(dst, h.Server, MaxNameBytes, "server name")
	l := &h.Limits
	dst = appendU32(dst, l.MaxFrame)
	dst = appendU16(dst, l.MaxBatchOps)
	dst = appendU32(dst, l.MaxInFlight)
	dst = appendU8(dst, l.MaxIDBytes)
	dst = appendU8(dst, l.MaxKeyBytes)
	dst = appendU32(dst, l.CompressMinBytes)
	return finishFrame(dst, start)
}

// DecodeHelloReply decodes the payload of the reply to HELLO.
func DecodeHelloReply(payload []byte, h *HelloReply) error {
	c := cursor{b: payload}
	h.Version = c.u16()
	h.Compression = Compression(c.u8())
	if !h.Compression.Valid() {
		c.fail(malformed("HELLO reply names an unknown compression"))
	}
	h.NodeID = c.u32()
	h.Server = string(c.str8(MaxNameBytes, "server name bytes"))
	l := &h.Limits
	l.MaxFrame = c.u32()
	l.MaxBatchOps = c.u16()
	l.MaxInFlight = c.u32()
	l.MaxIDBytes = c.u8()
	l.MaxKeyBytes = c.u8()
	l.CompressMinBytes = c.u32()
	return c.end()
}

// AppendPing appends a PING request (reply false) or its pong (reply true).
// The payload is a u64 nonce the pong echoes: a client can time round trips
// or match pongs without keeping state.
func AppendPing(dst []byte, reqID uint32, nonce uint64, reply bool) []byte {
	var flags Flags
	if reply {
		flags = FlagReply
	}
	dst = AppendFrameHeader(dst, OpPing, flags, reqID, 8)
	return appendU64(dst, nonce)
}

// DecodePing returns the nonce of a PING request or reply payload.
func DecodePing(payload []byte) (nonce uint64, err error) {
	c := cursor{b: payload}
	nonce = c.u64()
	return nonce, c.end()
}

// ErrorReply is the payload of an ERROR reply: the request (or batch entry)
// was not served. Code comes from engine's code table, most often a server
// or protocol code (busy, timeout, protocol_error, too_large ...).
type ErrorReply struct {
	Code    engine.Code
	Message string // one sentence for humans; programs act on Code
}

// AppendError appends an ERROR reply to request reqID. Payload: code u16
// (never 0), message str16.
func AppendError(dst []byte, reqID uint32, e *ErrorReply) []byte {
	dst, start := beginFrame(dst, OpError, FlagReply, reqID)
	dst = appendErrorReply(dst, e)
	return finishFrame(dst, start)
}

func appendErrorReply(dst []byte, e *ErrorReply) []byte {
	if e.Code == engine.OK {
		panic("protocol: ERROR with code ok")
	}
	dst = appendU16(dst, uint16(e.Code))
	return appendStr16(dst, e.Message, MaxMessageBytes, "error message")
}

// DecodeErrorReply decodes an ERROR payload (also a BATCH reply entry's).
func DecodeErrorReply(payload []byte, e *ErrorReply) error {
	c := cursor{b: payload}
	e.Code = engine.Code(c.u16())
	if c.err == nil && e.Code == engine.OK {
		c.fail(malformed("ERROR with code ok"))
	}
	e.Message = string(c.str16(MaxMessageBytes, "error message bytes"))
	return c.end()
}

// NotLeader is the payload of a NOT_LEADER reply: this node does not lead
// the request's shard. Its code is CodeNotLeader. The hint may be stale or
// empty; a client that finds no leader there asks TOPOLOGY again.
type NotLeader struct {
	Shard      uint16
	LeaderID   uint32 // 0 = unknown
	LeaderAddr string // client address of the leader; empty = unknown
}

// AppendNotLeader appends a NOT_LEADER reply to request reqID. Payload:
// shard u16, leader_id u32, leader_addr str8.
func AppendNotLeader(dst []byte, reqID uint32, nl *NotLeader) []byte {
	dst, start := beginFrame(dst, OpNotLeader, FlagReply, reqID)
	dst = appendNotLeader(dst, nl)
	return finishFrame(dst, start)
}

func appendNotLeader(dst []byte, nl *NotLeader) []byte {
	dst = appendU16(dst, nl.Shard)
	dst = appendU32(dst, nl.LeaderID)
	return appendStr8(dst, nl.LeaderAddr, MaxAddrBytes, "leader address")
}

// DecodeNotLeader decodes a NOT_LEADER payload (also a BATCH reply entry's).
func DecodeNotLeader(payload []byte, nl *NotLeader) error {
	c := cursor{b: payload}
	nl.Shard = c.u16()
	nl.LeaderID = c.u32()
	nl.LeaderAddr = string(c.str8(MaxAddrBytes, "leader address bytes"))
	return c.end()
}
