// Package wire speaks inv's protocol in raw frames, for the tests that must
// send what the client library never would (hostile frames, protocol
// edges, exact pipelining) and for a quick measuring stick of the server:
// Conn (this file) is a synchronous connection, one request then its reply;
// Run (load.go) drives closed-loop pipelined load. Programs speak the
// protocol through package client; this package and the client are the only
// two speakers of the protocol. It lives under bench and not in it because
// bench measures the system only through what a user's program sees (it
// must not import protocol).
package wire

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Conn is one connection after HELLO. It is not safe for concurrent use.
type Conn struct {
	nc      net.Conn
	r       *protocol.Reader
	buf     []byte
	next    uint32
	timeout time.Duration
	token   string // sent in HELLO (DialToken)
	// Hello is the server's answer to HELLO: its limits and node id.
	Hello protocol.HelloReply
}

// ErrorReply is an ERROR frame: the request was not served.
type ErrorReply struct {
	Code    engine.Code
	Message string
}

func (e *ErrorReply) Error() string { return e.Code.String() + ": " + e.Message }

// NotLeaderReply is a NOT_LEADER frame.
type NotLeaderReply struct{ protocol.NotLeader }

func (e *NotLeaderReply) Error() string {
	return fmt.Sprintf("not_leader: shard %d is led by node %d (%q)", e.Shard, e.LeaderID, e.LeaderAddr)
}

// CodeOf returns the code of a reply error (ERROR or NOT_LEADER), or
// CodeInternal for a transport error.
func CodeOf(err error) engine.Code {
	var e *ErrorReply
	if errors.As(err, &e) {
		return e.Code
	}
	var nl *NotLeaderReply
	if errors.As(err, &nl) {
		return engine.CodeNotLeader
	}
	return engine.CodeInternal
}

// Dial connects and says HELLO. timeout bounds the dial and every later
// request (0: 10 s).
func Dial(addr string, timeout time.Duration) (*Conn, error) { return DialToken(addr, "", timeout) }

// DialToken connects and says HELLO with an auth token.
func DialToken(addr, token string, timeout time.Duration) (*Conn, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, r: protocol.NewReader(nc, protocol.DefaultMaxFrameBytes), timeout: timeout, token: token}
	if err := c.hello(); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conn) hello() error {
	id := c.id()
	c.buf = protocol.AppendHello(c.buf[:0], id, &protocol.Hello{Version: protocol.ProtocolVersion, Client: "wire", Token: c.token})
	f, err := c.roundTrip(id)
	if err != nil {
		return err
	}
	if f.Op != protocol.OpHello {
		return fmt.Errorf("wire: HELLO answered with %s", f.Op)
	}
	return protocol.DecodeHelloReply(f.Payload, &c.Hello)
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Raw returns the underlying connection (tests write hostile bytes to it).
func (c *Conn) Raw() net.Conn { return c.nc }

func (c *Conn) id() uint32 {
	c.next++
	if c.next == 0 {
		c.next = 1
	}
	return c.next
}

// NextID returns a fresh request id for frames built by the caller.
func (c *Conn) NextID() uint32 { return c.id() }

// Send writes frames built by the caller (pipelining, hostile input).
func (c *Conn) Send(frames []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.nc.Write(frames)
	return err
}

// Next reads the next frame; its payload is valid until the next call.
func (c *Conn) Next() (protocol.Frame, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	return c.r.Next()
}

// roundTrip sends c.buf and returns the reply to id, failing on ERROR and
// NOT_LEADER.
func (c *Conn) roundTrip(id uint32) (protocol.Frame, error) {
	if err := c.Send(c.buf); err != nil {
		return protocol.Frame{}, err
	}
	for {
		f, err := c.Next()
		if err != nil {
			return f, err
		}
		if f.ReqID != id {
			continue // an EVENT of a subscription, or a reply the caller gave up on
		}
		return f, ReplyError(f)
	}
}

// ReplyError returns the error an ERROR or NOT_LEADER frame stands for, or nil.
func ReplyError(f protocol.Frame) error {
	switch f.Op {
	case protocol.OpError:
		var e protocol.ErrorReply
		if err := protocol.DecodeErrorReply(f.Payload, &e); err != nil {
			return err
		}
		return &ErrorReply{Code: e.Code, Message: e.Message}
	case protocol.OpNotLeader:
		var nl NotLeaderReply
		if err := protocol.DecodeNotLeader(f.Payload, &nl.NotLeader); err != nil {
			return err
		}
		return &nl
	}
	return nil
}

// Do sends one domain command and returns its result. A refusal of the
// engine is a result with a non-OK code, not an error; errors are ERROR and
// NOT_LEADER replies and transport failures.
func (c *Conn) Do(cmd *engine.Command) (engine.Result, error) {
	if err := protocol.CheckRequest(cmd); err != nil {
		return engine.Result{}, err
	}
	id := c.id()
	c.buf = protocol.AppendRequest(c.buf[:0], id, cmd)
	f, err := c.roundTrip(id)
	if err != nil {
		return engine.Result{}, err
	}
	var r engine.Result
	err = protocol.DecodeResult(f.Payload, &r)
	return r, err
}

// Batch sends commands in one BATCH frame and returns one entry per command.
func (c *Conn) Batch(cmds []engine.Command) ([]protocol.BatchResult, error) {
	id := c.id()
	c.buf = protocol.AppendBatchRequest(c.buf[:0], id, cmds)
	f, err := c.roundTrip(id)
	if err != nil {
		return nil, err
	}
	return protocol.DecodeBatchResult(f.Payload, nil)
}

// Ping sends a PING and checks the pong.
func (c *Conn) Ping(nonce uint64) error {
	id := c.id()
	c.buf = protocol.AppendPing(c.buf[:0], id, nonce, false)
	f, err := c.roundTrip(id)
	if err != nil {
		return err
	}
	got, err := protocol.DecodePing(f.Payload)
	if err == nil && got != nonce {
		err = fmt.Errorf("wire: pong %d for ping %d", got, nonce)
	}
	return err
}

// Topology asks for the cluster map.
func (c *Conn) Topology() (protocol.Topology, error) {
	id := c.id()
	c.buf = protocol.AppendTopologyRequest(c.buf[:0], id)
	var t protocol.Topology
	f, err := c.roundTrip(id)
	if err != nil {
		return t, err
	}
	err = protocol.DecodeTopology(f.Payload, &t)
	return t, err
}

// Snapshot asks the node to snapshot every shard it holds now (operator).
func (c *Conn) Snapshot() (protocol.SnapshotReply, error) {
	id := c.id()
	c.buf = protocol.AppendSnapshotRequest(c.buf[:0], id)
	var r protocol.SnapshotReply
	f, err := c.roundTrip(id)
	if err != nil {
		return r, err
	}
	err = protocol.DecodeSnapshotReply(f.Payload, &r)
	return r, err
}

// Status asks the node for its raft view of each of its shards (operator).
func (c *Conn) Status() (protocol.StatusReply, error) {
	id := c.id()
	c.buf = protocol.AppendStatusRequest(c.buf[:0], id)
	var r protocol.StatusReply
	f, err := c.roundTrip(id)
	if err != nil {
		return r, err
	}
	err = protocol.DecodeStatusReply(f.Payload, &r)
	return r, err
}

// Subscribe starts a shard's change feed; read its EVENT frames with Next
// (their request id is the returned one).
func (c *Conn) Subscribe(shard uint16, from uint64) (protocol.Subscribed, uint32, error) {
	id := c.id()
	c.buf = protocol.AppendSubscribe(c.buf[:0], id, &protocol.Subscribe{Shard: shard, From: from})
	var s protocol.Subscribed
	f, err := c.roundTrip(id)
	if err != nil {
		return s, id, err
	}
	err = protocol.DecodeSubscribed(f.Payload, &s)
	return s, id, err
}

// ReplyErrorOf returns the error of a BATCH reply entry that was not served
// (ERROR or NOT_LEADER), or nil for a result.
func ReplyErrorOf(br *protocol.BatchResult) error {
	switch br.Op {
	case protocol.OpError:
		return &ErrorReply{Code: br.Err.Code, Message: br.Err.Message}
	case protocol.OpNotLeader:
		return &NotLeaderReply{br.NotLeader}
	}
	return nil
}
