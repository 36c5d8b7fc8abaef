package protocol

import "github.com/invsys/inv/engine"

// SHARD_CALL (0x0A) is how one node runs a domain command on a shard whose
// leader is another node (docs/adr/0050): the forwarding node names the
// shard itself, so the receiving node proposes to that shard alone and
// never routes, fans out or forwards again. Only the operator role (the
// nodes' own cluster credential) may send it.
//
// Request payload: shard u16, engine op u8, then the op's request payload
// (mask and fields, as in a domain request frame). The reply is the domain
// op's own reply frame (op code 0x10 + op, reply flag), or ERROR, or
// NOT_LEADER when the receiving node does not lead the shard either.

// shardCallHeader is the shard and op ahead of the command's fields.
const shardCallHeader = 3

// AppendShardCall appends a SHARD_CALL request for cmd on shard. cmd must
// pass CheckShardCall.
func AppendShardCall(dst []byte, reqID uint32, shard uint16, cmd *engine.Command) []byte {
	dst, start := beginFrame(dst, OpShardCall, 0, reqID)
	dst = appendU16(dst, shard)
	dst = appendU8(dst, uint8(cmd.Op))
	dst = appendCommand(dst, cmd)
	return finishFrame(dst, start)
}

// CheckShardCall reports why cmd cannot be sent in a SHARD_CALL, or nil.
func CheckShardCall(cmd *engine.Command) error { return CheckRequest(cmd) }

// DecodeShardCall decodes a SHARD_CALL payload into cmd and returns the
// shard it names. cmd's byte slices alias payload, as with DecodeRequest.
func DecodeShardCall(payload []byte, cmd *engine.Command) (uint16, error) {
	if len(payload) < shardCallHeader {
		return 0, malformed("SHARD_CALL payload shorter than its header")
	}
	c := cursor{b: payload}
	shard := c.u16()
	op := DomainOp(engine.Op(c.u8()))
	if _, ok := op.Engine(); !ok {
		return 0, unknownOp(op)
	}
	if err := DecodeRequest(op, payload[shardCallHeader:], cmd); err != nil {
		return 0, err
	}
	return shard, nil
}
