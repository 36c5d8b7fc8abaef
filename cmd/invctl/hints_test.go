// Refusals and failures print once, as "code: text", with a one-line hint
// that names the command's own SKU, store, customer or id: every code a
// shell user can get has a hint, the server's message is kept as it came,
// and no "inv:" or "invctl:" prefix is repeated.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

// unreachable are the codes invctl cannot be answered: link_failed comes
// only from linked groups, which invctl does not send; not_leader is
// handled inside the client; out_of_order
// passes only between nodes (outbox deliveries); the rest are
// the wire's own (a client that speaks the protocol never gets them).
var unreachable = map[engine.Code]bool{
	engine.CodeLinkFailed: true, engine.CodeNotLeader: true,
	engine.CodeProtocol: true, engine.CodeNoHello: true, engine.CodeNotHeld: true,
	engine.CodeOutOfOrder: true, // node to node: outbox deliveries only
}

func TestEveryCodeHasAHint(t *testing.T) {
	e := &env{addr: "127.0.0.1:7420"}
	for _, c := range engine.Codes() {
		if c == engine.OK || unreachable[c] {
			continue
		}
		if hintFor(c, e) == "" {
			t.Errorf("%s: no hint", c)
		}
	}
}

func TestRefusalPrintsOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		sub  subject
		err  error
		exit int
		want string
	}{
		{"a refusal without a message: the hint on its line", subject{sku: "sku1", store: "s1"}, client.ErrUnknownItem, exitRefused,
			"unknown_item: no item sku1 at store s1; create it with invctl item put --sku sku1 --store s1 --stock N\n"},
		{"a refusal with the client's message: kept, then the hint", subject{sku: "sku1", store: "s1"}, client.ErrWindowRequired, exitRefused,
			"window_required: the item has pickup windows: reserve into one of them (GetItem lists them)\n" +
				"hint: invctl item get --sku sku1 --store s1 lists the windows; reserve again with --window START\n"},
		{"an ERROR frame's message as the server sent it", subject{}, &client.ServerError{Code: engine.CodeUnauthorized, Message: "role storefront may not snapshot"},
			exitFailed, "unauthorized: role storefront may not snapshot\nhint: " + hintFor(engine.CodeUnauthorized, &env{}) + "\n"},
		{"wrapped twice by the library", subject{id: "7"}, fmt.Errorf("inv: confirm: %w", client.ErrWrongState), exitRefused,
			"wrong_state: confirm: wrong_state\nhint: reservation 7 is in a state that does not allow this; invctl reservation get 7 shows its state\n"},
		{"a server that cannot be reached", subject{}, fmt.Errorf("inv: dial [127.0.0.1:1]: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}),
			exitFailed, "unavailable: dial [127.0.0.1:1]: dial tcp: connection refused\nhint: is invd running at 127.0.0.1:1? start one with make run, or point invctl at yours with --addr or INV_ADDR\n"},
		{"a failure of invctl's own", subject{}, errors.New("open out.csv: permission denied"), exitFailed,
			"invctl: open out.csv: permission denied\n"},
	} {
		var stderr bytes.Buffer
		e := &env{stderr: &stderr, addr: "127.0.0.1:1", sub: tc.sub}
		if got := exitCode(tc.err, e); got != tc.exit {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.exit)
		}
		if stderr.String() != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, stderr.String(), tc.want)
		}
		if strings.Contains(stderr.String(), "inv: ") || strings.Count(stderr.String(), "invctl:") > 1 {
			t.Errorf("%s: a repeated prefix in %q", tc.name, stderr.String())
		}
	}
}
