// Benchmarks of the raft entry encoding on the hot path: the proposer
// encodes each command as it arrives (appendCommand) and the FSM decodes
// each entry before the engine runs it (DecodeEntry). The commands are the
// reference workloads' reserves and confirms with their idempotency keys.
// They measure; they assert nothing about speed.
package raftstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

func benchEntryCmds() []engine.Command {
	cmds := make([]engine.Command, benchEntryCommands)
	for i := range cmds {
		if i%2 == 0 {
			cmds[i] = engine.Command{Op: engine.OpReserve, SKU: []byte(fmt.Sprintf("sku-%06d", i%1000)),
				Store: []byte(fmt.Sprintf("st-%04d", i%500)), Customer: []byte(fmt.Sprintf("cust-%09d", i)),
				Key: []byte(fmt.Sprintf("%032x", uint64(i)*0x9E3779B97F4A7C15)), Qty: 1, TTL: 10 * time.Minute}
		} else {
			cmds[i] = engine.Command{Op: engine.OpConfirm, ID: uint64(i) << 20,
				Key: []byte(fmt.Sprintf("%032x", uint64(i)*0x9E3779B97F4A7C13))}
		}
	}
	return cmds
}

func BenchmarkEntryEncode(b *testing.B) {
	cmds := benchEntryCmds()
	buf := make([]byte, 0, 256<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(cmds) {
		buf = buf[:entryHeaderLen]
		var err error
		for j := range cmds[:min(len(cmds), b.N-i)] {
			if buf, err = appendCommand(buf, &cmds[j]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEntryDecode(b *testing.B) {
	data, err := EncodeEntry(1, benchEntryCmds())
	if err != nil {
		b.Fatal(err)
	}
	var scratch []engine.Command
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += benchEntryCommands {
		if _, scratch, err = DecodeEntry(data, scratch); err != nil {
			b.Fatal(err)
		}
	}
}
