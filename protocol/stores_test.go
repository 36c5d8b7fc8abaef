// This file proves how the fields that moved with placement by store are
// refused (docs/adr/0071): a put_item that carries a limit, or a set_limit
// that names a store, is a bad_request whose message says what to send
// instead (not a protocol error: the frame is well formed); put_store's
// zone must be a zone of the time zone database, looked up where the
// request enters, and a bad one is a bad_request naming it.
package protocol

import (
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
)

// rawRequest encodes a request with any fields, bypassing the op's field set.
func rawRequest(op engine.Op, mask uint32, fields ...[]byte) []byte {
	b := appendU32(nil, mask)
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

func TestMovedFieldsRefused(t *testing.T) {
	str := func(s string) []byte { return appendStr8(nil, s, 64, "x") }
	cases := []struct {
		name    string
		op      engine.Op
		payload []byte
		say     string
	}{
		{"put_item with a limit", engine.OpPutItem,
			rawRequest(engine.OpPutItem, 1<<fSKU|1<<fStore|1<<fStock|1<<fLimit, str("A"), str("S1"), appendI64(nil, 5), appendI64(nil, 2)),
			"set_limit"},
		{"set_limit with a store", engine.OpSetLimit,
			rawRequest(engine.OpSetLimit, 1<<fSKU|1<<fStore|1<<fLimit, str("A"), str("S1"), appendI64(nil, 2)),
			"no store"},
		{"put_store with an unknown zone", engine.OpPutStore,
			rawRequest(engine.OpPutStore, 1<<fStore|1<<fZone, str("S1"), str("Asia/Atlantis")), `"Asia/Atlantis"`},
		{"put_store with the host's zone", engine.OpPutStore,
			rawRequest(engine.OpPutStore, 1<<fStore|1<<fZone, str("S1"), str("Local")), `"Local"`},
		{"put_store with a path", engine.OpPutStore,
			rawRequest(engine.OpPutStore, 1<<fStore|1<<fZone, str("S1"), str("../../etc/passwd")), "not an IANA name"},
		{"put_store without a zone", engine.OpPutStore,
			rawRequest(engine.OpPutStore, 1<<fStore, str("S1")), "needs a time zone"},
	}
	for _, c := range cases {
		var cmd engine.Command
		err := DecodeRequest(DomainOp(c.op), c.payload, &cmd)
		if CodeOf(err) != engine.CodeBadRequest || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%s: %v, want bad_request saying %q", c.name, err, c.say)
		}
	}
	for _, zone := range []string{"Asia/Taipei", "UTC", "Etc/GMT-8", "America/Argentina/Buenos_Aires"} {
		var cmd engine.Command
		p := rawRequest(engine.OpPutStore, 1<<fStore|1<<fZone, str("S1"), str(zone))
		if err := DecodeRequest(DomainOp(engine.OpPutStore), p, &cmd); err != nil || string(cmd.Zone) != zone {
			t.Errorf("zone %s: %v", zone, err)
		}
	}
}
