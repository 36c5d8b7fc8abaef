package server

import "syscall"

// acceptNonBlocking accepts one connection on a non-blocking listening
// descriptor: EAGAIN when none waits.
func acceptNonBlocking(lfd int) (int, error) {
	fd, _, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	return fd, err
}
