package server

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The protocol port's listener is the server's own, not gnet's
// (docs/adr/0057): gnet's acceptor ends its reactor, and with it the whole
// engine, on the first accept error it does not expect, such as EMFILE when
// the process is out of file descriptors. Here a goroutine accepts with Go's
// net package, hands each connection to gnet's event loops
// (gnet.Client.EnrollContext, which duplicates the descriptor into a loop),
// and treats every accept error as passing:
//
//   - it is counted (inv_accept_errors_total) and logged, rate-limited;
//   - out of descriptors (EMFILE, ENFILE), it closes a reserve descriptor
//     kept for this, accepts the waiting connection with it, answers busy
//     and closes it, and opens the reserve again: a client learns at once
//     that this node cannot take it, instead of waiting in the backlog;
//   - then it waits a little (acceptRetryMin, doubling up to
//     acceptRetryMax) and accepts again.
//
// /readyz answers 503 while an accept has failed within acceptFailWindow,
// or when the listener or the event loops have stopped (acceptProblem).

// acceptErrorNames label inv_accept_errors_total.
var acceptErrorNames = [numAcceptErrors]string{"emfile", "enfile", "enobufs", "enomem", "other"}

const (
	acceptEMFILE = iota
	acceptENFILE
	acceptENOBUFS
	acceptENOMEM
	acceptOther
	numAcceptErrors
)

func acceptErrorKind(err error) int {
	switch {
	case errors.Is(err, syscall.EMFILE):
		return acceptEMFILE
	case errors.Is(err, syscall.ENFILE):
		return acceptENFILE
	case errors.Is(err, syscall.ENOBUFS):
		return acceptENOBUFS
	case errors.Is(err, syscall.ENOMEM):
		return acceptENOMEM
	}
	return acceptOther
}

// listen binds the protocol address and starts gnet's event loops and the
// accept loop. Go's listener sets SO_REUSEADDR (a restarted server binds
// its port while its old connections sit in TIME_WAIT), and TCP_NODELAY and
// keepalive on every connection it accepts; gnet's duplicate of a
// connection's descriptor shares its socket, and so its options.
func (s *Server) listen(opts []gnet.Option) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	cli, err := gnet.NewClient(s, opts...)
	if err == nil {
		err = cli.Start()
	}
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.ln, s.cli = ln, cli
	s.lastTick.Store(time.Now().UnixNano())
	s.reserve, _ = os.Open(os.DevNull) // best effort: without it a shortage is only waited out
	s.acceptDone = make(chan struct{})
	go s.acceptLoop()
	return nil
}

// acceptLoop accepts until the listener is closed (closeListener).
func (s *Server) acceptLoop() {
	defer close(s.acceptDone)
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err == nil {
			delay = 0
			s.enrollWG.Add(1)
			go s.enroll(nc)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		s.acceptFailed(err)
		if kind := acceptErrorKind(err); (kind == acceptEMFILE || kind == acceptENFILE) && s.shed() {
			continue
		}
		delay = min(max(2*delay, acceptRetryMin), acceptRetryMax)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.stopAccept:
			t.Stop()
			return
		}
	}
}

// enroll hands an accepted connection to an event loop, which calls OnOpen.
// EnrollContext closes nc: the loop keeps a duplicate of its descriptor.
func (s *Server) enroll(nc net.Conn) {
	defer s.enrollWG.Done()
	if _, err := s.cli.EnrollContext(nc, nil); err != nil {
		s.acceptFailed(err) // the duplicate could not be made: out of descriptors too
	}
}

// acceptFailed counts and notes a failed accept (accept loop, enroll).
func (s *Server) acceptFailed(err error) {
	now := time.Now()
	s.met.edge.acceptErrors[acceptErrorKind(err)].Inc()
	msg := err.Error()
	s.lastAcceptErr.Store(&msg)
	s.lastAcceptFail.Store(now.UnixNano())
	if ok, held := s.acceptWarns.allow(now); ok {
		s.log.Warn("accepting a connection failed", "error", err, "suppressed", held)
	}
}

// shed accepts one waiting connection on the reserve descriptor, answers it
// busy and closes it, then takes the reserve again. It reports whether a
// connection was shed (accept loop only).
func (s *Server) shed() bool {
	if s.reserve == nil {
		s.reserve, _ = os.Open(os.DevNull)
		return false
	}
	_ = s.reserve.Close()
	s.reserve = nil
	busy := protocol.AppendError(nil, 0, &protocol.ErrorReply{Code: engine.CodeBusy,
		Message: "the server is out of file descriptors"})
	shed := shedWaiting(s.ln, busy, s.met.edge.connsRefused[refusedNoDescriptors].Inc) // accept_unix.go
	s.reserve, _ = os.Open(os.DevNull)
	return shed
}

// closeListener stops accepting and waits until every accepted connection
// has reached an event loop (Shutdown, before the loops stop).
func (s *Server) closeListener() {
	if s.ln == nil {
		return
	}
	close(s.stopAccept)
	_ = s.ln.Close()
	<-s.acceptDone
	s.enrollWG.Wait()
	if s.reserve != nil {
		_ = s.reserve.Close()
	}
}

// acceptProblem says why the protocol port is not taking connections now,
// or "" when it is: the listener or the event loops have stopped, or an
// accept failed within acceptFailWindow.
func (s *Server) acceptProblem() string {
	if s.ln == nil {
		return "" // not started yet; readiness waits on the shards meanwhile
	}
	if p := s.listenerGone(); p != "" {
		return p
	}
	now := time.Now().UnixNano()
	if t := s.lastAcceptFail.Load(); t != 0 && time.Duration(now-t) < acceptFailWindow {
		return "accepting protocol connections fails: " + *s.lastAcceptErr.Load()
	}
	return ""
}

// listenerGone says why the protocol port has stopped for good, or "": the
// accept loop ended, or gnet's event loops did (their ticker stopped).
func (s *Server) listenerGone() string {
	if s.ln == nil || s.draining.Load() {
		return ""
	}
	select {
	case <-s.acceptDone:
		return "the protocol listener has stopped"
	default:
	}
	if since := time.Since(time.Unix(0, s.lastTick.Load())); since > loopStallWindow {
		return "the protocol event loops have not ticked for " + since.Round(time.Millisecond).String()
	}
	return ""
}
