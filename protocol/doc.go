// Package protocol is inv's binary wire format: the frame header, the
// encoding of every request, reply and event, the handshake (HELLO), batches,
// the cluster map (TOPOLOGY), the change feed (SUBSCRIBE / EVENT), optional
// S2 or zstd compression of large frames, and the shard hash clients route by.
// docs/PROTOCOL.md specifies the same format byte by byte for clients in
// other languages; testdata/golden.json holds vectors to check them against.
//
// It touches no sockets: encoders append to a caller's []byte and decoders
// parse a caller's []byte, so the server's event loops, the Go client and
// the tests all share one codec. Reader is the one helper around an
// io.Reader, for clients that read a net.Conn.
//
// The hot path allocates nothing: AppendRequest, AppendResult and the batch
// writer append into the caller's buffer; ReadFrame, DecodeRequest and
// DecodeResult of a mutating op's reply fill caller-provided values whose
// []byte fields alias the input. Reads (item, lists, topology, events) may
// allocate, always bounded by the frame's length: every declared count is
// checked against the bytes that remain before anything is allocated.
//
// Decoders treat their input as hostile: any byte string gives a value or an
// error, never a panic. Encoders treat their input as the program's own: a
// value outside the limits (limits.go) is a bug and panics; callers holding
// untrusted values check them first with CheckRequest or CheckResult.
//
// It imports the engine's types (engine.Command, engine.Result, engine.Event,
// engine.Code), github.com/klauspost/compress (s2, zstd) and the standard
// library, nothing else.
package protocol
