package protocol

import (
	"errors"
	"testing"
)

func TestAdminRoundTrip(t *testing.T) {
	for _, r := range []AdminRequest{
		{Cmd: AdminSetPeer, Node: 4, RaftAddr: "10.0.0.14:7430", ClientAddr: "10.0.0.14:7420"},
		{Cmd: AdminForgetPeer, Node: 2},
		{Cmd: AdminAddVoter, Shard: 7, Node: 4},
		{Cmd: AdminRemove, Shard: 15, Node: 2, Force: true},
		{Cmd: AdminTransfer, Shard: 3},
		{Cmd: AdminDrain, Node: 1},
		{Cmd: AdminUndrain, Node: 1},
	} {
		frame := AppendAdminRequest(nil, 5, &r)
		f, _, err := ReadFrame(frame, 0)
		if err != nil || f.Op != OpAdmin || f.ReqID != 5 {
			t.Fatalf("%v: frame %+v err %v", r.Cmd, f, err)
		}
		var got AdminRequest
		if err := DecodeAdminRequest(f.Payload, &got); err != nil || got != r {
			t.Errorf("%v: decoded %+v, %v; want %+v", r.Cmd, got, err, r)
		}
	}
	rep := AdminReply{NodeID: 2, Index: 991, Message: "shard 3: node 4 added"}
	f, _, err := ReadFrame(AppendAdminReply(nil, 9, &rep), 0)
	if err != nil || !f.Reply() {
		t.Fatalf("reply frame: %v", err)
	}
	var got AdminReply
	if err := DecodeAdminReply(f.Payload, &got); err != nil || got != rep {
		t.Errorf("reply %+v, %v; want %+v", got, err, rep)
	}
	if !OpAdmin.Known() || OpAdmin.String() != "ADMIN" {
		t.Errorf("OpAdmin known=%v name=%s", OpAdmin.Known(), OpAdmin)
	}
}

func TestAdminRefusals(t *testing.T) {
	enc := func(cmd, flags uint8, shard uint16, node uint32, raft, client string) []byte {
		b := appendU8(nil, cmd)
		b = appendU16(b, shard)
		b = appendU32(b, node)
		b = appendU8(b, flags)
		b = appendStr8(b, raft, 255, "")
		return appendStr8(b, client, 255, "")
	}
	for _, c := range []struct {
		name    string
		payload []byte
	}{
		{"unknown command", enc(0, 0, 0, 1, "", "")},
		{"command past the last", enc(8, 0, 0, 1, "", "")},
		{"no node", enc(uint8(AdminAddVoter), 0, 1, 0, "", "")},
		{"shard on a peer command", enc(uint8(AdminDrain), 0, 1, 1, "", "")},
		{"force on add", enc(uint8(AdminAddVoter), 1, 1, 1, "", "")},
		{"reserved flag", enc(uint8(AdminRemove), 2, 1, 1, "", "")},
		{"set_peer without addresses", enc(uint8(AdminSetPeer), 0, 0, 1, "", "")},
		{"addresses on remove", enc(uint8(AdminRemove), 0, 0, 1, "a:1", "b:2")},
		{"truncated", enc(uint8(AdminRemove), 0, 0, 1, "", "")[:5]},
		{"trailing", append(enc(uint8(AdminRemove), 0, 0, 1, "", ""), 0)},
	} {
		var r AdminRequest
		if err := DecodeAdminRequest(c.payload, &r); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v; want ErrMalformed", c.name, err)
		}
	}
}
