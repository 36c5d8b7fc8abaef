// Overload and slow clients against a real invd with small limits: a
// connection that sends half a frame and goes silent is cut after
// read_timeout; one that pipelines requests and never reads its replies is
// cut (slow consumer) and the server's memory stays bounded; and offered
// load far past capacity (many connections × pipelines deeper than
// max_in_flight, against a proposal queue of 64 per shard) is answered —
// BUSY where a bound is reached, never silence — with the accepted
// requests' latency bounded, the resident memory of the process bounded,
// and afterwards every acknowledged reservation present and the item's
// counts equal to what was acknowledged. A witness connection is served
// throughout. Memory is read from /proc/PID/status (VmRSS, VmHWM).
package main_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

// overloadConfig: small bounds, so that the load reaches them. hello_timeout
// is long: the loaders of TestOverloadPastCapacity connect while the first
// of them already overload the node, and a late one's HELLO may wait past a
// short deadline on a loaded 2-core machine (it was cut with EOF at 300ms).
const overloadConfig = `
max_in_flight = 64
queue_max_commands = 64
batch_max_commands = 64
max_outbound_bytes = 1048576
read_timeout = 300ms
write_timeout = 500ms
hello_timeout = 5s
`

// procMemKiB reads a field (VmRSS, VmHWM) of /proc/PID/status in KiB.
func procMemKiB(t *testing.T, p *invdtest.Proc, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc status", field)
	return 0
}

// cutWithin reports whether the server closes nc within d (reading and
// discarding whatever it sends first).
func cutWithin(nc net.Conn, d time.Duration) bool {
	_ = nc.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func TestSlowClients(t *testing.T) {
	p := startInvd(t, 2, overloadConfig)
	witness := dial(t, p)
	want(t, witness, engine.OK, putItem("H", "S1", 1_000_000))
	hello := protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "slow"})

	t.Run("half a frame then silence", func(t *testing.T) {
		nc := rawConn(t, p)
		cmd := reserve("H", "S1", "half", 1)
		f := protocol.AppendRequest(nil, 9, &cmd)
		if _, err := nc.Write(append(hello, f[:len(f)/2]...)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if !cutWithin(nc, 5*time.Second) {
			t.Fatal("a connection holding half a frame was not cut within 5 s (read_timeout 300ms)")
		}
		t.Logf("cut after %s", time.Since(start).Round(time.Millisecond))
		stillServes(t, p, witness)
	})

	t.Run("a trickled frame is cut too", func(t *testing.T) {
		nc := rawConn(t, p)
		if _, err := nc.Write(hello); err != nil {
			t.Fatal(err)
		}
		cmd := reserve("H", "S1", "trickle", 1)
		f := protocol.AppendRequest(nil, 9, &cmd)
		deadline := time.Now().Add(5 * time.Second)
		for i := 0; i < len(f)-1; i++ {
			if _, err := nc.Write(f[i : i+1]); err != nil {
				return // cut while trickling: what we want
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !cutWithin(nc, 5*time.Second) {
			t.Fatal("a frame trickled a byte per 100 ms was not cut")
		}
		stillServes(t, p, witness)
	})

	t.Run("a client that never reads is cut and memory stays bounded", func(t *testing.T) {
		before := procMemKiB(t, p, "VmRSS")
		nc := rawConn(t, p)
		_ = nc.SetDeadline(time.Time{})
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10) // keep the kernel from absorbing the replies for us
		}
		if _, err := nc.Write(hello); err != nil {
			t.Fatal(err)
		}
		// Lists of every item: replies far larger than requests, so that the
		// kernel's socket buffers fill in a few rounds even under -race.
		var items []engine.Command
		for i := range 300 {
			items = append(items, putItem(fmt.Sprintf("L%03d", i), "S1", 1))
		}
		if _, err := witness.Batch(items); err != nil {
			t.Fatal(err)
		}
		list := engine.Command{Op: engine.OpListItems}
		var frames []byte
		for i := range 32 {
			frames = protocol.AppendRequest(frames, uint32(i+2), &list)
		}
		cut := false
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := nc.Write(frames); err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					cut = true
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		if !cut {
			t.Fatal("a client that never reads was not cut within 20 s")
		}
		after := procMemKiB(t, p, "VmRSS")
		t.Logf("RSS %d KiB before, %d KiB after", before, after)
		if after-before > 256<<10 {
			t.Fatalf("RSS grew by %d KiB for one client that never reads", after-before)
		}
		stillServes(t, p, witness)
	})
}

// acked is one reservation the server acknowledged.
type acked struct {
	id   uint64
	cust string
}

func TestOverloadPastCapacity(t *testing.T) {
	const (
		conns    = 32
		depth    = 256 // requests pipelined per round: four times max_in_flight
		duration = 3 * time.Second
		stock    = 10_000_000
	)
	p := startInvd(t, 2, overloadConfig)
	op := dial(t, p)
	want(t, op, engine.OK, putItem("HOT", "S1", stock))
	witness := dial(t, p)

	var (
		mu        sync.Mutex
		acks      []acked
		busy      int
		latencies []time.Duration
		other     = map[string]int{}
	)
	stop := time.Now().Add(duration)
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for ci := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := wireDial(p.Addr())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			var frames []byte
			custOf := map[uint32]string{}
			for round := 0; time.Now().Before(stop); round++ {
				frames = frames[:0]
				clear(custOf)
				for k := range depth {
					cust := fmt.Sprintf("c%d-%d-%d", ci, round, k)
					cmd := reserve("HOT", "S1", cust, 1)
					id := c.NextID()
					custOf[id] = cust
					frames = protocol.AppendRequest(frames, id, &cmd)
				}
				sent := time.Now()
				if err := c.Send(frames); err != nil {
					errs <- err
					return
				}
				var mine []acked
				var lat []time.Duration
				nbusy := 0
				for range depth {
					f, err := c.Next()
					if err != nil {
						errs <- fmt.Errorf("conn %d: no reply: %w", ci, err)
						return
					}
					if f.Op == protocol.DomainOp(engine.OpReserve) {
						var r engine.Result
						if err := protocol.DecodeResult(f.Payload, &r); err != nil || r.Code != engine.OK {
							errs <- fmt.Errorf("reserve: %v %s", err, r.Code)
							return
						}
						mine = append(mine, acked{r.ID, custOf[f.ReqID]})
						lat = append(lat, time.Since(sent))
						continue
					}
					code := wire.CodeOf(wire.ReplyError(f))
					if code != engine.CodeBusy {
						mu.Lock()
						other[code.String()]++
						mu.Unlock()
						continue
					}
					nbusy++
				}
				mu.Lock()
				acks = append(acks, mine...)
				latencies = append(latencies, lat...)
				busy += nbusy
				mu.Unlock()
			}
		}()
	}
	// The witness is served while the others overload the server.
	var witnessMax time.Duration
	for time.Now().Before(stop) {
		t0 := time.Now()
		if err := witness.Ping(1); err != nil {
			t.Fatalf("witness during overload: %v", err)
		}
		witnessMax = max(witnessMax, time.Since(t0))
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	hwm := procMemKiB(t, p, "VmHWM")
	slices.Sort(latencies)
	if len(acks) == 0 || busy == 0 {
		t.Fatalf("%d acknowledged, %d busy: the load did not reach the bounds", len(acks), busy)
	}
	p99 := latencies[len(latencies)*99/100]
	t.Logf("%d acknowledged, %d busy, other %v; accepted latency p50 %s p99 %s max %s; witness ping max %s; VmHWM %d MiB",
		len(acks), busy, other, latencies[len(latencies)/2], p99, latencies[len(latencies)-1], witnessMax, hwm>>10)
	if len(other) > 0 {
		t.Fatalf("replies other than ok and busy: %v", other)
	}
	if p99 > 2*time.Second {
		t.Fatalf("p99 latency of accepted requests %s over 2 s", p99)
	}
	if hwm > 1<<20 { // 1 GiB
		t.Fatalf("peak RSS %d MiB over 1 GiB", hwm>>10)
	}

	// Nothing acknowledged is lost, nothing unacknowledged was taken.
	for chunk := range slices.Chunk(acks, 64) { // one proposal group: the queue holds 64
		cmds := make([]engine.Command, len(chunk))
		for i, a := range chunk {
			cmds[i] = onID(engine.OpGetReservation, a.id)
		}
		rs, err := op.Batch(cmds)
		if err != nil || len(rs) != len(chunk) {
			t.Fatalf("batch of reads: %v (%d results)", err, len(rs))
		}
		for i, a := range chunk {
			r := rs[i].Result
			if r.Code != engine.OK || r.Reservation == nil || r.Reservation.Customer != a.cust ||
				r.Reservation.State != engine.StateHeld {
				t.Fatalf("acknowledged reservation %d of %s: %s %+v %+v", a.id, a.cust, r.Code, r.Reservation, rs[i].Err)
			}
		}
	}
	it := getItem(t, op, "HOT", "S1")
	if it.Held != int64(len(acks)) || it.Available != stock-int64(len(acks)) {
		t.Fatalf("item held %d available %d after %d acknowledged reserves", it.Held, it.Available, len(acks))
	}
}
