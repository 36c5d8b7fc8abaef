// This file drives an inv server with closed-loop pipelined load over raw
// protocol frames: C connections, each keeping P requests in flight, each
// reply answered at once by the next request. It is the quick measuring
// stick of the server's own tests (cmd/invd's TestLoad); the harness with
// its workloads and reports is package bench.
//
// Per connection one goroutine writes and reads: it reads replies from a
// buffered reader and writes the requests that replace them in one write
// once the reader's buffer is drained, so a busy connection costs about one
// read and one write syscall per batch of replies, as a good client would.

package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Gen appends the request frame of request number n (0-based, unique across
// connections) with request id reqID to dst.
type Gen func(dst []byte, n int64, reqID uint32) []byte

// Result of a run.
type Result struct {
	Requests, OK, Refused, Errors int64
	Codes                         map[engine.Code]int64
	Elapsed                       time.Duration
	Latencies                     []time.Duration // every request's, sorted
}

// Percentile returns the latency below which the fraction q of requests fell.
func (r *Result) Percentile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[min(len(r.Latencies)-1, int(q*float64(len(r.Latencies))))]
}

// PerSecond returns answered requests per second.
func (r *Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r *Result) String() string {
	return fmt.Sprintf("%d requests in %s: %.0f req/s, ok %d, refused %d, errors %d, p50 %s p99 %s p999 %s",
		r.Requests, r.Elapsed.Round(time.Millisecond), r.PerSecond(), r.OK, r.Refused, r.Errors,
		r.Percentile(0.5), r.Percentile(0.99), r.Percentile(0.999))
}

// Run sends total requests over conns connections with inflight requests in
// flight on each, and waits for every reply.
func Run(addr string, conns, inflight int, total int64, gen Gen) (*Result, error) {
	var next atomic.Int64
	type connResult struct {
		lat   []time.Duration
		codes map[engine.Code]int64
		err   error
	}
	results := make([]connResult, conns)
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := dialHello(addr)
		if err != nil {
			return nil, err
		}
		cs[i] = c
		defer c.Close()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, codes, err := drive(cs[i], inflight, total, &next, gen)
			results[i] = connResult{lat, codes, err}
		}()
	}
	wg.Wait()
	res := &Result{Elapsed: time.Since(start), Codes: map[engine.Code]int64{}}
	var errs []error
	for _, r := range results {
		res.Latencies = append(res.Latencies, r.lat...)
		for c, n := range r.codes {
			res.Codes[c] += n
			res.Requests += n
			switch {
			case c == engine.OK:
				res.OK += n
			case c.Refusal():
				res.Refused += n
			default:
				res.Errors += n
			}
		}
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	slices.Sort(res.Latencies)
	return res, errors.Join(errs...)
}

func dialHello(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "wire-load"})); err != nil {
		c.Close()
		return nil, err
	}
	r := protocol.NewReader(c, 0)
	if f, err := r.Next(); err != nil || f.Op != protocol.OpHello {
		c.Close()
		return nil, fmt.Errorf("wire: HELLO: %v %v", f.Op, err)
	}
	return c, nil
}

// drive runs one connection's closed loop. Request ids index a slot table of
// send times; a slot is reused once its reply is in.
func drive(c net.Conn, inflight int, total int64, next *atomic.Int64, gen Gen) ([]time.Duration, map[engine.Code]int64, error) {
	br := bufio.NewReaderSize(c, 256<<10)
	sent := make([]time.Time, inflight+1) // slot i = request id i; id 0 unused
	lat := make([]time.Duration, 0, total/int64(max(1, inflight))+16)
	codes := map[engine.Code]int64{}
	var out []byte
	outstanding := 0
	issue := func(slot uint32) bool {
		n := next.Add(1) - 1
		if n >= total {
			return false
		}
		out = gen(out, n, slot)
		sent[slot] = time.Now()
		outstanding++
		return true
	}
	for slot := 1; slot <= inflight; slot++ {
		if !issue(uint32(slot)) {
			break
		}
	}
	hdr := make([]byte, protocol.HeaderSize)
	for outstanding > 0 {
		if len(out) > 0 && br.Buffered() == 0 {
			if _, err := c.Write(out); err != nil {
				return lat, codes, err
			}
			out = out[:0]
		}
		if _, err := io.ReadFull(br, hdr); err != nil {
			return lat, codes, err
		}
		n := int(binary.LittleEndian.Uint32(hdr))
		id := binary.LittleEndian.Uint32(hdr[6:])
		payload, err := br.Peek(n)
		if err != nil {
			return lat, codes, err
		}
		code := replyCode(protocol.Op(hdr[4]), payload)
		if _, err := br.Discard(n); err != nil {
			return lat, codes, err
		}
		if id == 0 || int(id) > inflight {
			return lat, codes, fmt.Errorf("wire: reply to request id %d", id)
		}
		lat = append(lat, time.Since(sent[id]))
		codes[code]++
		outstanding--
		issue(id)
	}
	return lat, codes, nil
}

// replyCode reads a reply's code without decoding the rest.
func replyCode(op protocol.Op, payload []byte) engine.Code {
	switch {
	case op == protocol.OpNotLeader:
		return engine.CodeNotLeader
	case len(payload) < 2:
		return engine.CodeProtocol
	}
	return engine.Code(binary.LittleEndian.Uint16(payload))
}
