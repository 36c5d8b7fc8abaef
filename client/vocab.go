package client

import (
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The client's vocabulary shared with the server: codes, reservation
// states, event kinds and the operator replies. These are type aliases
// (docs/adr/0087): each is plain data that the wire carries unchanged, with
// no field only a node may set, so the client names them without copying
// them; a program using the client imports neither engine nor protocol.
// The requests a program sends are the client's own types (types.go): the
// engine's Command, with its node-only fields, never appears in this API.

// Code is the outcome code of a request: OK, an engine refusal
// (CodeSoldOut ...) or a server refusal (CodeBusy ...). ServerError
// carries it; CodeOf reads it from an error.
type Code = engine.Code

// The codes a client sees. Each refusal also has a sentinel error (ErrSoldOut
// for CodeSoldOut ...) that errors.Is matches.
const (
	CodeOK             = engine.OK
	CodeBadRequest     = engine.CodeBadRequest
	CodeUnknownItem    = engine.CodeUnknownItem
	CodeSoldOut        = engine.CodeSoldOut
	CodeWindowFull     = engine.CodeWindowFull
	CodeLimitExceeded  = engine.CodeLimitExceeded
	CodeBlocked        = engine.CodeBlocked
	CodeNotOpen        = engine.CodeNotOpen
	CodeClosed         = engine.CodeClosed
	CodeRateLimited    = engine.CodeRateLimited
	CodeKeyConflict    = engine.CodeKeyConflict
	CodeNotFound       = engine.CodeNotFound
	CodeExpired        = engine.CodeExpired
	CodeWrongState     = engine.CodeWrongState
	CodeWrongStore     = engine.CodeWrongStore
	CodeBadCode        = engine.CodeBadCode
	CodeLocked         = engine.CodeLocked
	CodeBelowPromised  = engine.CodeBelowPromised
	CodeUnknownWindow  = engine.CodeUnknownWindow
	CodeWindowConflict = engine.CodeWindowConflict
	CodeLinkFailed     = engine.CodeLinkFailed
	CodeTooMany        = engine.CodeTooMany
	CodeWindowRequired = engine.CodeWindowRequired
	CodeTooEarly       = engine.CodeTooEarly
	CodeUnauthorized   = engine.CodeUnauthorized
	CodeBusy           = engine.CodeBusy
	CodeNotLeader      = engine.CodeNotLeader
	CodeTooLarge       = engine.CodeTooLarge
	CodeUnknownOp      = engine.CodeUnknownOp
	CodeProtocol       = engine.CodeProtocol
	CodeNoHello        = engine.CodeNoHello
	CodeUnavailable    = engine.CodeUnavailable
	CodeTimeout        = engine.CodeTimeout
	CodeInternal       = engine.CodeInternal
	CodeNotHeld        = engine.CodeNotHeld
	CodeDiskFull       = engine.CodeDiskFull
	CodeMarked         = engine.CodeMarked
	CodeUnderReview    = engine.CodeUnderReview
	// CodeClaimRequired reaches a client only from join_waitlist (a
	// limited SKU's customer homed on another shard: docs/adr/0105); the
	// server runs a reserve's claim round itself.
	CodeClaimRequired = engine.CodeClaimRequired
	// Coupon serials (docs/adr/0106).
	CodeAlreadyRedeemed = engine.CodeAlreadyRedeemed
	CodeUnknownIssue    = engine.CodeUnknownIssue
)

// State is a reservation's state (held, confirmed, picked_up ...).
type State = engine.State

// The reservation states.
const (
	StateHeld      = engine.StateHeld
	StateConfirmed = engine.StateConfirmed
	StatePickedUp  = engine.StatePickedUp
	StateCancelled = engine.StateCancelled
	StateExpired   = engine.StateExpired
	StateNoShow    = engine.StateNoShow
	StateReturned  = engine.StateReturned
)

// EventKind is the kind of a change in a shard's feed (Event.Kind).
type EventKind = engine.EventKind

// The event kinds of the change feed (the retired claim_settled and
// claim_moved are never emitted and have no name here).
const (
	EvReserved       = engine.EvReserved
	EvConfirmed      = engine.EvConfirmed
	EvExtended       = engine.EvExtended
	EvCancelled      = engine.EvCancelled
	EvExpired        = engine.EvExpired
	EvPickedUp       = engine.EvPickedUp
	EvNoShow         = engine.EvNoShow
	EvRescheduled    = engine.EvRescheduled
	EvReturned       = engine.EvReturned
	EvLocked         = engine.EvLocked
	EvUnlocked       = engine.EvUnlocked
	EvItemPut        = engine.EvItemPut
	EvWindowPut      = engine.EvWindowPut
	EvStockChanged   = engine.EvStockChanged
	EvCustomer       = engine.EvCustomer
	EvBadCode        = engine.EvBadCode
	EvClaimed        = engine.EvClaimed
	EvClaimEnded     = engine.EvClaimEnded
	EvLimitSet       = engine.EvLimitSet
	EvStorePut       = engine.EvStorePut
	EvStoreWindow    = engine.EvStoreWindow
	EvClaimAnchored  = engine.EvClaimAnchored
	EvHoldRefused    = engine.EvHoldRefused
	EvMarkRule       = engine.EvMarkRule
	EvWaitJoined     = engine.EvWaitJoined
	EvWaitLeft       = engine.EvWaitLeft
	EvWaitExpired    = engine.EvWaitExpired
	EvWaitPromoted   = engine.EvWaitPromoted
	EvWaitDropped    = engine.EvWaitDropped
	EvHeldBack       = engine.EvHeldBack
	EvReviewReleased = engine.EvReviewReleased
	// Coupon serials (docs/adr/0106): ID is the serial's.
	EvCouponIssuePut = engine.EvCouponIssuePut
	EvCouponTaken    = engine.EvCouponTaken
	EvCouponRedeemed = engine.EvCouponRedeemed // Store: the store that redeemed it
	EvCouponExpired  = engine.EvCouponExpired  // Qty 1: back in the pool
)

// Compression is a compression of large frames (WithCompression).
type Compression = protocol.Compression

// The compressions a client may accept.
const (
	CompressionNone = protocol.CompressionNone
	CompressionS2   = protocol.CompressionS2
	CompressionZstd = protocol.CompressionZstd
)

// Operator replies and requests: plain data as the wire carries them.
type (
	Topology      = protocol.Topology      // the cluster map (Client.Topology)
	LeaderHint    = protocol.NotLeader     // a NOT_LEADER answer's hint (NotLeaderError)
	StatusReply   = protocol.StatusReply   // a node's raft state per shard (NodeStatus)
	SnapshotReply = protocol.SnapshotReply // the snapshots a node took (Snapshot)
	AdminRequest  = protocol.AdminRequest  // a membership step (AdminAt)
	AdminReply    = protocol.AdminReply    // its answer
	AdminCmd      = protocol.AdminCmd      // AdminRequest.Cmd
)

// The membership steps of AdminRequest.Cmd.
const (
	AdminSetPeer    = protocol.AdminSetPeer
	AdminForgetPeer = protocol.AdminForgetPeer
	AdminAddVoter   = protocol.AdminAddVoter
	AdminRemove     = protocol.AdminRemove
	AdminTransfer   = protocol.AdminTransfer
	AdminDrain      = protocol.AdminDrain
	AdminUndrain    = protocol.AdminUndrain
)
