package protocol

import "github.com/invsys/inv/engine"

// AppendStaleRequest appends a request frame for a read-only cmd with
// FlagStale set: any replica may answer it from its applied state
// (docs/adr/0033). It panics on an op that is not read-only.
func AppendStaleRequest(dst []byte, reqID uint32, cmd *engine.Command) []byte {
	if !cmd.Op.ReadOnly() {
		panic("protocol: the stale flag on " + cmd.Op.String() + ", which is not a read")
	}
	dst, start := beginFrame(dst, DomainOp(cmd.Op), FlagStale, reqID)
	dst = appendCommand(dst, cmd)
	return finishFrame(dst, start)
}
