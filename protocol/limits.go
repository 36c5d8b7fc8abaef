package protocol

import "github.com/invsys/inv/engine"

// Limits on everything a peer sends. Each is checked by the decoder before
// the bytes it guards are used or any memory is allocated for them, and
// asserted by the encoder so that this package never writes a frame its own
// decoder would refuse. docs/PROTOCOL.md lists the same numbers.
const (
	// ProtocolVersion is the version this package speaks. HELLO carries it;
	// a change of any layout in docs/PROTOCOL.md takes a new version.
	ProtocolVersion = 1

	// HeaderSize is the fixed frame header: length u32, op u8, flags u8,
	// request id u32.
	HeaderSize = 10

	// DefaultMaxFrameBytes bounds a whole frame (header and payload, and the
	// payload again after decompression) when the caller does not choose.
	// 1 MiB holds a full batch of reserves (MaxBatchOps × ~100 bytes ≈ 400 KiB)
	// and its reply (≤ 51 bytes an entry), yet keeps a connection's read
	// buffer small enough for tens of thousands of connections per node.
	DefaultMaxFrameBytes = 1 << 20

	// MaxFrameBytesLimit is the most a caller may configure. It bounds the
	// memory one frame can make a reader allocate (read buffer plus
	// decompressed payload), whatever a misconfiguration asks for.
	MaxFrameBytesLimit = 64 << 20

	// MaxIDBytes bounds SKU, store and customer ids: barcodes (EAN-13),
	// store codes and member ids fit; the engine refuses longer ones too.
	MaxIDBytes = engine.MaxIDBytes

	// MaxKeyBytes bounds idempotency keys: a UUID in text form fits.
	MaxKeyBytes = engine.MaxKeyBytes

	// MaxBatchOps bounds the sub-ops of one BATCH. 4096 amortises the frame
	// and syscall cost a thousandfold while a batch of reserves stays well
	// under DefaultMaxFrameBytes, and bounds the per-batch result array the
	// server keeps while the batch is in flight.
	MaxBatchOps = 4096

	// MaxBulkItems bounds the items of one put_items (engine.MaxBulkItems:
	// 4096 amortises a command's fixed costs a thousandfold).
	// MaxBulkItemBytes is the most one item takes on the wire (64-byte ids
	// and every setting): MaxBulkItems of them fit the default frame, so a
	// bulk put the client fills to the count limit is never too large.
	MaxBulkItems     = engine.MaxBulkItems
	MaxBulkItemBytes = 2 + 2*(1+MaxIDBytes) + 5*8 + 1

	// MaxWindowsPerItem bounds the pickup windows in an item read: the
	// engine keeps no more per item.
	MaxWindowsPerItem = engine.MaxWindowsPerItem

	// MaxWindowsPerStore bounds the pickup windows in a store read: the
	// engine keeps no more per store (8 a day for a month).
	MaxWindowsPerStore = engine.MaxWindowsPerStore

	// MaxZoneBytes bounds a store's time zone name: the longest IANA names
	// have about 30 bytes.
	MaxZoneBytes = engine.MaxZoneBytes
	// MaxReasonBytes bounds the reason of a stock or settings change.
	MaxReasonBytes = engine.MaxReasonBytes

	// List limits bound the entries of read replies. The frame limit bounds
	// their bytes; these bound the entries a decoder allocates for, and say
	// plainly how long a list the protocol carries (a reply that would not
	// fit the receiver's frame is refused with too_large instead).

	// MaxListReservations bounds a list_reservations reply: far more than
	// one customer's real orders (with typical ids ~100 bytes each on the
	// wire: 400 KiB).
	MaxListReservations = 4096

	// MaxListStores bounds a stores_with_stock reply: the largest chain has
	// about 6,000 stores; 16384 leaves room (~16 bytes each: 256 KiB).
	MaxListStores = 16384

	// MaxListItems bounds a list_items reply: a shard's items for export and
	// checks (~120 bytes each without windows: 480 KiB).
	MaxListItems = 4096

	// MaxTokenBytes bounds HELLO's auth token: a signed token (JWT-like)
	// fits; anything longer before authentication is a probe.
	MaxTokenBytes = 1024

	// MaxNameBytes bounds the client and server names in HELLO: they are for
	// logs and metrics labels, where long values do harm.
	MaxNameBytes = 64

	// MaxMessageBytes bounds an ERROR reply's message: one human sentence;
	// the code, not the text, is what programs act on.
	MaxMessageBytes = 1024

	// MaxAddrBytes bounds a node's client address (host:port): a DNS name
	// of up to 253 bytes plus a port does not always fit, but every name an
	// operator would configure does, and the length stays one byte.
	MaxAddrBytes = 255

	// MaxHashNameBytes bounds TOPOLOGY's hash function name.
	MaxHashNameBytes = 32

	// MaxNodes bounds the nodes of a TOPOLOGY reply: a cluster of inv nodes
	// is a handful to a few dozen; 256 bounds what a client allocates.
	MaxNodes = 256

	// MaxShards bounds the shards of a TOPOLOGY reply and of routing.
	// Reservation ids could name 65536 shards (16 bits), but every shard is
	// a Raft group with its own log and timers; 4096 is far past any sane
	// placement and keeps the topology reply under 100 KiB.
	MaxShards = 4096

	// MaxReplicas bounds the replicas of one shard: Raft groups beyond 7
	// voters only slow commits; 15 leaves room for non-voting learners.
	MaxReplicas = 15
)

// normMaxFrame maps a caller's frame limit to the one enforced: zero or less
// means the default, nothing below a bare header nor above
// MaxFrameBytesLimit is honoured.
func normMaxFrame(maxFrame int) int {
	if maxFrame <= 0 {
		return DefaultMaxFrameBytes
	}
	if maxFrame < HeaderSize {
		return HeaderSize
	}
	if maxFrame > MaxFrameBytesLimit {
		return MaxFrameBytesLimit
	}
	return maxFrame
}
