package protocol

// ADMIN (0x09) changes the cluster's membership and leadership, one step on
// one node at a time (docs/adr/0046): an operator tool sends each shard's
// part to that shard's leader, following NOT_LEADER, and the peer-table
// parts to every node. Operator role only.
//
// Request payload: cmd u8, shard u16, node u32, flags u8 (bit 0 force, the
// rest reserved), raft_addr str8, client_addr str8.
// Reply payload: node_id u32 (the node that acted), index u64 (the raft
// index of the configuration change, 0 when none was needed), message str16.

// AdminCmd is what an ADMIN request asks for.
type AdminCmd uint8

const (
	// AdminSetPeer records node's raft and client addresses in the peer
	// table of the receiving node (persisted in its data folder).
	AdminSetPeer AdminCmd = 1
	// AdminForgetPeer drops node from the receiving node's peer table; it
	// is refused while node is still a member of a shard group there.
	AdminForgetPeer AdminCmd = 2
	// AdminAddVoter, on shard's leader, adds node (from the peer table) as
	// a voter of shard's raft group.
	AdminAddVoter AdminCmd = 3
	// AdminRemove, on shard's leader, removes node from shard's raft group.
	// It refuses to remove the last voter, and, unless Force, to leave
	// fewer reachable voters than a majority of the new configuration.
	AdminRemove AdminCmd = 4
	// AdminTransfer, on shard's leader, hands the leadership to node (0:
	// to the most up-to-date other voter).
	AdminTransfer AdminCmd = 5
	// AdminDrain marks node as drained in the receiving node's peer table:
	// the leader balancer no longer gives it leaderships.
	AdminDrain AdminCmd = 6
	// AdminUndrain clears the drained mark.
	AdminUndrain AdminCmd = 7
)

var adminCmdNames = [...]string{AdminSetPeer: "set_peer", AdminForgetPeer: "forget_peer",
	AdminAddVoter: "add_voter", AdminRemove: "remove", AdminTransfer: "transfer",
	AdminDrain: "drain", AdminUndrain: "undrain"}

// String returns the command's snake_case name.
func (c AdminCmd) String() string {
	if c.Valid() {
		return adminCmdNames[c]
	}
	return "admin_cmd_" + hex2(uint8(c))
}

// Valid reports whether c is a command of this protocol version.
func (c AdminCmd) Valid() bool { return c >= AdminSetPeer && c <= AdminUndrain }

// Sharded reports whether the command acts on one shard's raft group (and
// so must be sent to that shard's leader).
func (c AdminCmd) Sharded() bool { return c >= AdminAddVoter && c <= AdminTransfer }

// AdminRequest is an ADMIN request.
type AdminRequest struct {
	Cmd        AdminCmd
	Shard      uint16 // sharded commands only
	Node       uint32 // the node acted upon; 0 only for AdminTransfer (any)
	Force      bool   // AdminRemove only
	RaftAddr   string // AdminSetPeer only
	ClientAddr string // AdminSetPeer only
}

// AdminReply is the reply to ADMIN.
type AdminReply struct {
	NodeID  uint32 // the node that acted
	Index   uint64 // raft index of the configuration change; 0: none needed
	Message string // what was done, for the operator
}

const adminForce = 0x01

// CheckAdmin checks a request the decoder would refuse.
func CheckAdmin(r *AdminRequest) error {
	switch {
	case !r.Cmd.Valid():
		return malformed("ADMIN with an unknown command")
	case r.Node == 0 && r.Cmd != AdminTransfer:
		return malformed("ADMIN " + r.Cmd.String() + " without a node id")
	case !r.Cmd.Sharded() && r.Shard != 0:
		return malformed("ADMIN " + r.Cmd.String() + " with a shard")
	case r.Force && r.Cmd != AdminRemove:
		return malformed("ADMIN " + r.Cmd.String() + " with force")
	case r.Cmd == AdminSetPeer && (r.RaftAddr == "" || r.ClientAddr == ""):
		return malformed("ADMIN set_peer needs a raft and a client address")
	case r.Cmd != AdminSetPeer && (r.RaftAddr != "" || r.ClientAddr != ""):
		return malformed("ADMIN " + r.Cmd.String() + " with addresses")
	case len(r.RaftAddr) > MaxAddrBytes || len(r.ClientAddr) > MaxAddrBytes:
		return tooLarge("ADMIN address", max(len(r.RaftAddr), len(r.ClientAddr)), MaxAddrBytes)
	}
	return nil
}

// AppendAdminRequest appends an ADMIN request. It panics on a request
// CheckAdmin refuses.
func AppendAdminRequest(dst []byte, reqID uint32, r *AdminRequest) []byte {
	if err := CheckAdmin(r); err != nil {
		panic("protocol: encoding ADMIN: " + err.Error())
	}
	dst, start := beginFrame(dst, OpAdmin, 0, reqID)
	dst = appendU8(dst, uint8(r.Cmd))
	dst = appendU16(dst, r.Shard)
	dst = appendU32(dst, r.Node)
	var flags uint8
	if r.Force {
		flags |= adminForce
	}
	dst = appendU8(dst, flags)
	dst = appendStr8(dst, r.RaftAddr, MaxAddrBytes, "raft address")
	dst = appendStr8(dst, r.ClientAddr, MaxAddrBytes, "client address")
	return finishFrame(dst, start)
}

// DecodeAdminRequest decodes an ADMIN request's payload.
func DecodeAdminRequest(payload []byte, r *AdminRequest) error {
	*r = AdminRequest{}
	c := cursor{b: payload}
	r.Cmd = AdminCmd(c.u8())
	r.Shard = c.u16()
	r.Node = c.u32()
	flags := c.u8()
	r.RaftAddr = string(c.str8(MaxAddrBytes, "raft address bytes"))
	r.ClientAddr = string(c.str8(MaxAddrBytes, "client address bytes"))
	if err := c.end(); err != nil {
		return err
	}
	if flags&^adminForce != 0 {
		return malformed("ADMIN with reserved flag bits")
	}
	r.Force = flags&adminForce != 0
	return CheckAdmin(r)
}

// AppendAdminReply appends the reply to ADMIN.
func AppendAdminReply(dst []byte, reqID uint32, r *AdminReply) []byte {
	dst, start := beginFrame(dst, OpAdmin, FlagReply, reqID)
	dst = appendU32(dst, r.NodeID)
	dst = appendU64(dst, r.Index)
	dst = appendStr16(dst, r.Message, MaxMessageBytes, "admin message")
	return finishFrame(dst, start)
}

// DecodeAdminReply decodes the payload of the reply to ADMIN.
func DecodeAdminReply(payload []byte, r *AdminReply) error {
	*r = AdminReply{}
	c := cursor{b: payload}
	r.NodeID = c.u32()
	r.Index = c.u64()
	r.Message = string(c.str16(MaxMessageBytes, "admin message bytes"))
	return c.end()
}
