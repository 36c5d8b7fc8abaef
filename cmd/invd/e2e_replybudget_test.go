// The node-wide reply budget against a real invd: eight connections pipeline
// stores_with_stock of a SKU stocked in 3,000 stores (a reply of ~45 KB to a
// request of ~20 bytes) and never read their sockets, as the attack that
// took invd past 2 GB did, with max_in_flight at its default. Meanwhile a
// witness sends small requests and a well-behaved reader pipelines the same
// large read and reads every reply. The same witness and reader first run
// alone for a second, to measure what normal latency is on this machine.
// The test samples the process's resident memory (VmRSS every 20 ms, VmHWM
// at the end) and /metrics, and proves: the growth of resident memory over
// its level before the attack stays under max_reply_buffer_bytes times a
// stated overhead factor plus a fixed allowance; the witness and the reader
// are served throughout within a bound tied to their calm latency, the
// reader never refused or cut; the server paused the non-readers
// (inv_connections_paused) and cut them (inv_slow_consumers_cut_total); and
// once they are gone their connections are closed, inv_reply_buffer_bytes
// and inv_connections_paused are back to zero and the memory is back near
// where it was. Run against the server before the budget existed (without
// the config key), the same attack takes it past 1.5 GiB within ten
// seconds and to 3 GiB thirty seconds later, and neither the witness nor
// the reader is answered within its ten-second timeout.
package main_test

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

const (
	// replyBudget is the node's max_reply_buffer_bytes in this test.
	replyBudget = 16 << 20
	// wideStores is how many stores stock the SKU the attackers ask about.
	wideStores = 3000
	// attackers is the number of connections that never read.
	attackers = 8
)

// replyBudgetConfig keeps max_in_flight at its default (4096), as in the
// attack: only the reply budget and the write timeout bound the server.
var replyBudgetConfig = fmt.Sprintf(`
max_reply_buffer_bytes = %d
write_timeout = 3s
`, replyBudget)

// rssOverheadFactor is how much resident memory the server may use per byte
// of reply budget: a reply exists twice while it is copied into gnet's
// buffer, the results it was encoded from are garbage until the next
// collection, and the Go heap grows to twice its live size before it
// collects (GOGC=100). The race detector adds its shadow memory.
func rssOverheadFactor() int64 {
	if invdtest.RaceEnabled {
		return 8
	}
	return 4
}

// rssAllowanceBytes covers what does not scale with the budget: goroutine
// stacks and buffers of the test's own connections, the results of the
// reads in flight before they are encoded, and the fragmentation of the
// heap.
const rssAllowanceBytes = 96 << 20

// latencyFactor bounds the witness's and the reader's slowest round trip
// during the attack by this many times their slowest before it (at least
// attackLatencyFloor): the large reads the budget admits for the attackers
// before they are paused still run, each as costly as one of the reader's
// (a budget of 16 MiB admits about 150), and the race detector and a busy
// machine slow both phases alike.
const (
	latencyFactor      = 25
	attackLatencyFloor = 2 * time.Second
)

// The attack lasts at least attackLeast, then until every non-reader is
// cut; at most attackMost. A non-reader is cut for write_timeout once its
// replies wait in gnet's buffer, which happens only after the kernel's
// socket buffers are full: how long that takes depends on the kernel and
// on the speed of the build.
const (
	attackLeast = 2 * time.Second
	attackMost  = 30 * time.Second
)

func TestReplyBudgetHoldsSlowReaders(t *testing.T) {
	p := startInvd(t, 2, replyBudgetConfig)
	op := dial(t, p)
	storesReq := stockWideSKU(t, op, "WIDE", wideStores)
	want(t, op, engine.OK, putItem("W", "S1", 1_000_000))

	calm := runClients(t, p, op, storesReq, time.Second, time.Second, 0)
	if calm.witnessErr != nil || calm.reader.err != nil {
		t.Fatalf("before the attack: witness %v, reader %v", calm.witnessErr, calm.reader.err)
	}
	allowed := max(attackLatencyFloor, latencyFactor*max(calm.witnessMax, calm.reader.maxLatency))
	time.Sleep(time.Second) // let the heap settle after the setup
	baseKiB := procMemKiB(t, p, "VmRSS")
	baseHeap := scrape(t, p)["go_memstats_heap_inuse_bytes"]

	a := runClients(t, p, op, storesReq, attackLeast, attackMost, attackers)
	grownBytes := (a.peakKiB - baseKiB) << 10
	bound := replyBudget*rssOverheadFactor() + rssAllowanceBytes
	m := scrape(t, p)
	cut := sumOf(m, "inv_slow_consumers_cut_total")
	t.Logf("calm: witness max %s, reader %d replies max %s", calm.witnessMax, calm.reader.replies, calm.reader.maxLatency)
	t.Logf("attack: RSS %d MiB before, peak %d MiB (grew %d MiB, bound %d MiB); inv_reply_buffer_bytes peak %d MiB; "+
		"inv_connections_paused peak %d; witness max %s, reader %d replies max %s (allowed %s); attackers cut after %v; "+
		"inv_slow_consumers_cut_total %v",
		baseKiB>>10, a.peakKiB>>10, grownBytes>>20, bound>>20, a.replyPeak>>20, a.pausedPeak,
		a.witnessMax, a.reader.replies, a.reader.maxLatency, allowed, a.cutAfter, cut)
	if grownBytes > bound {
		t.Errorf("RSS grew by %d MiB under %d non-reading connections: over %d MiB (budget %d MiB × %d + %d MiB)",
			grownBytes>>20, attackers, bound>>20, replyBudget>>20, rssOverheadFactor(), rssAllowanceBytes>>20)
	}
	if a.witnessErr != nil || a.witnessMax > allowed {
		t.Errorf("witness during the attack: slowest %s (allowed %s), error %v", a.witnessMax, allowed, a.witnessErr)
	}
	if a.reader.err != nil || a.reader.replies == 0 || a.reader.maxLatency > allowed {
		t.Errorf("the reading client during the attack: %d replies, slowest round %s (allowed %s), error %v",
			a.reader.replies, a.reader.maxLatency, allowed, a.reader.err)
	}
	if a.pausedPeak == 0 {
		t.Errorf("inv_connections_paused never above 0 during the attack")
	}
	if slices.Contains(a.cutAfter, 0) || cut < attackers {
		t.Errorf("non-reading connections cut after %v; inv_slow_consumers_cut_total %v, want %d", a.cutAfter, cut, attackers)
	}
	// Which bound cuts the slower senders first depends on the machine's
	// pace: write_timeout when their replies stall before the node pauses
	// them, unread_while_paused when the budget pauses them first (seen on
	// a loaded 2-core machine). Every cut must be one of the two.
	paused, stalled := m[`inv_slow_consumers_cut_total{reason="unread_while_paused"}`], m[`inv_slow_consumers_cut_total{reason="write_timeout"}`]
	t.Logf("cut for unread_while_paused %v, for write_timeout %v", paused, stalled)
	if paused == 0 || paused+stalled != cut {
		t.Errorf("cuts: %v unread_while_paused, %v write_timeout, of %v", paused, stalled, cut)
	}
	checkGivenBack(t, p, baseKiB, baseHeap)
}

// attackerPace is how often non-reader i sends: half send flat out, and
// are cut for the requests they pile up while paused; half send 6,400
// requests a second, too few to reach that bound before write_timeout
// cuts them for taking no replies.
func attackerPace(i int) time.Duration {
	if i%2 == 0 {
		return 0
	}
	return 10 * time.Millisecond
}

// clientsRun is what runClients saw.
type clientsRun struct {
	witnessMax time.Duration
	witnessErr error
	reader     readerTally
	cutAfter   []time.Duration // per non-reader: when the server closed it (0: never)
	peakKiB    int64           // the process's peak resident memory
	replyPeak  int64           // the peak of inv_reply_buffer_bytes, sampled
	pausedPeak int64           // the peak of inv_connections_paused, sampled
}

// runClients runs the witness on op, a reader that reads every reply, and n
// connections that pipeline req and never read, for at least least and
// then until the server has cut the n, at most most.
func runClients(t *testing.T, p *invdtest.Proc, op *wire.Conn, req engine.Command, least, most time.Duration, n int) clientsRun {
	var run clientsRun
	var peakKiB, replyPeak, pausedPeak atomic.Int64
	stopSampling := sampleMemory(t, p, &peakKiB, &replyPeak, &pausedPeak)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var running atomic.Int32
	running.Store(int32(n))
	run.cutAfter = make([]time.Duration, n)
	t0 := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if pipelineWithoutReading(t, p, req, attackerPace(i), stop) {
				run.cutAfter[i] = time.Since(t0)
				running.Add(-1)
			}
		}()
	}
	readerDone := make(chan readerTally, 1)
	go func() { readerDone <- readEveryReply(p, req, stop) }()
	run.witnessMax, run.witnessErr = witnessLatency(op, func() bool {
		d := time.Since(t0)
		return d > most || d > least && running.Load() == 0
	})
	close(stop)
	wg.Wait()
	run.reader = <-readerDone
	stopSampling()
	run.peakKiB = max(peakKiB.Load(), procMemKiB(t, p, "VmHWM"))
	run.replyPeak = replyPeak.Load()
	run.pausedPeak = pausedPeak.Load()
	return run
}

// metricIn reads an unlabelled series from a /metrics body (0 if absent).
func metricIn(body, name string) int64 {
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f)
		}
	}
	return 0
}

// sumOf sums a metric's series over their labels.
func sumOf(m map[string]float64, name string) float64 {
	var n float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			n += v
		}
	}
	return n
}

// stockWideSKU puts sku into n stores and returns the stores_with_stock
// request that lists them all.
func stockWideSKU(t *testing.T, c *wire.Conn, sku string, n int) engine.Command {
	t.Helper()
	for from := 0; from < n; from += 500 {
		var cmds []engine.Command
		for i := from; i < min(from+500, n); i++ {
			cmds = append(cmds, putItem(sku, fmt.Sprintf("S%05d", i), 5))
		}
		rs, err := c.Batch(cmds)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs {
			if err := wire.ReplyErrorOf(&rs[i]); err != nil || rs[i].Result.Code != engine.OK {
				t.Fatalf("put_item: %v %s", err, rs[i].Result.Code)
			}
		}
	}
	req := engine.Command{Op: engine.OpStoresWithStock, SKU: []byte(sku)}
	if r := want(t, c, engine.OK, req); len(r.Stores) != n {
		t.Fatalf("stores_with_stock: %d stores, want %d", len(r.Stores), n)
	}
	return req
}

// sampleMemory records the process's peak VmRSS every 20 ms, and the peaks
// of inv_reply_buffer_bytes and inv_connections_paused every 60 ms, until
// the returned function is called.
func sampleMemory(t *testing.T, p *invdtest.Proc, peak, replyPeak, pausedPeak *atomic.Int64) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			if kib := procMemKiB(t, p, "VmRSS"); kib > peak.Load() && p.Alive() {
				peak.Store(kib)
			}
			if i%3 == 0 {
				if _, body, err := p.HTTPGet("/metrics"); err == nil {
					replyPeak.Store(max(replyPeak.Load(), metricIn(body, "inv_reply_buffer_bytes")))
					pausedPeak.Store(max(pausedPeak.Load(), metricIn(body, "inv_connections_paused")))
				}
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// pipelineWithoutReading says HELLO and then writes requests 64 at a time,
// every pace (0: as fast as the server takes them), never reading a reply,
// until stop. It reports whether the server closed the connection.
func pipelineWithoutReading(t *testing.T, p *invdtest.Proc, req engine.Command, pace time.Duration, stop <-chan struct{}) bool {
	nc, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Error(err)
		return false
	}
	defer nc.Close()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10) // the kernel must not absorb the replies for us
	}
	frames := protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "never-reads"})
	for {
		for i := range 64 {
			frames = protocol.AppendRequest(frames, uint32(i+2), &req)
		}
		_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := nc.Write(frames)
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			return true // the server closed it
		}
		frames = frames[:0]
		select {
		case <-stop:
			return false
		case <-time.After(pace):
		}
	}
}

type readerTally struct {
	replies    int
	maxLatency time.Duration
	err        error
}

// readEveryReply pipelines req 16 deep and reads every reply, as a client
// library does, until stop: none may be refused, the connection never cut.
func readEveryReply(p *invdtest.Proc, req engine.Command, stop <-chan struct{}) readerTally {
	var tally readerTally
	c, err := wireDial(p.Addr())
	if err != nil {
		tally.err = err
		return tally
	}
	defer c.Close()
	const depth = 8
	for {
		select {
		case <-stop:
			return tally
		default:
		}
		var frames []byte
		for range depth {
			frames = protocol.AppendRequest(frames, c.NextID(), &req)
		}
		sent := time.Now()
		if tally.err = c.Send(frames); tally.err != nil {
			return tally
		}
		for range depth {
			f, err := c.Next()
			if err == nil && f.Op != protocol.DomainOp(engine.OpStoresWithStock) {
				err = fmt.Errorf("reply %s: %w", f.Op, wire.ReplyError(f))
			}
			if err != nil {
				tally.err = err
				return tally
			}
			tally.replies++
		}
		tally.maxLatency = max(tally.maxLatency, time.Since(sent))
	}
}

// witnessLatency runs small requests on c until until() and returns the
// slowest round trip, or the first failure.
func witnessLatency(c *wire.Conn, until func() bool) (time.Duration, error) {
	var slowest time.Duration
	for !until() {
		t0 := time.Now()
		item := engine.Command{Op: engine.OpGetItem, SKU: []byte("W"), Store: []byte("S1")}
		if r, err := c.Do(&item); err != nil || r.Code != engine.OK {
			return slowest, fmt.Errorf("get_item: %v %s", err, r.Code)
		}
		hold := reserve("W", "S1", fmt.Sprintf("w%d", t0.UnixNano()), 1)
		if r, err := c.Do(&hold); err != nil || r.Code != engine.OK {
			return slowest, fmt.Errorf("reserve: %v %s", err, r.Code)
		}
		slowest = max(slowest, time.Since(t0))
		time.Sleep(20 * time.Millisecond)
	}
	return slowest, nil
}

// checkGivenBack waits until the cut connections are gone, no reply bytes
// are held, and the Go heap in use, and without the race detector (whose
// shadow memory is never returned) the resident memory, are back within
// the budget of where they were.
func checkGivenBack(t *testing.T, p *invdtest.Proc, baseKiB int64, baseHeap float64) {
	t.Helper()
	var m map[string]float64
	var rssKiB int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		m = scrape(t, p)
		rssKiB = procMemKiB(t, p, "VmRSS")
		heap := m["go_memstats_heap_inuse_bytes"]
		back := heap-baseHeap <= replyBudget && (invdtest.RaceEnabled || (rssKiB-baseKiB)<<10 <= replyBudget)
		if m["inv_connections_open"] == 1 && m["inv_reply_buffer_bytes"] == 0 && m["inv_connections_paused"] == 0 && back {
			t.Logf("after: RSS %d MiB, heap in use %.0f MiB, connections %v", rssKiB>>10, heap/(1<<20), m["inv_connections_open"])
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the attack: %v connections open (want 1), reply bytes %v, paused %v, RSS %d MiB (before %d MiB), heap in use %.0f MiB (before %.0f MiB)",
				m["inv_connections_open"], m["inv_reply_buffer_bytes"], m["inv_connections_paused"], rssKiB>>10, baseKiB>>10,
				heap/(1<<20), baseHeap/(1<<20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
