//go:build unix

package server

import (
	"net"
	"syscall"
)

// shedWaiting accepts one connection waiting on ln, without blocking,
// calls counted, writes msg to it and closes it. It reports whether one was
// waiting.
func shedWaiting(ln net.Listener, msg []byte, counted func()) bool {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	// Control, not Read (a listener's RawConn has no Read): Go keeps the
	// listening descriptor non-blocking, so this is one attempt that never
	// waits for a connection.
	fd, aerr := -1, error(nil)
	err = rc.Control(func(lfd uintptr) {
		fd, aerr = acceptNonBlocking(int(lfd))
	})
	if err != nil || aerr != nil {
		return false
	}
	counted()                     // before the client can see the answer
	_, _ = syscall.Write(fd, msg) // a fresh socket's buffer holds it; nothing waits for it
	_ = syscall.Close(fd)
	return true
}
