//go:build unix && !linux

package server

import "syscall"

// acceptNonBlocking accepts one connection on a non-blocking listening
// descriptor: EAGAIN when none waits. Without accept4 the flags are set
// after the accept, under the fork lock so that no child inherits it.
func acceptNonBlocking(lfd int) (int, error) {
	syscall.ForkLock.RLock()
	fd, _, err := syscall.Accept(lfd)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}
