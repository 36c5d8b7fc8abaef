package server

import "golang.org/x/sys/unix"

// socketUnread is how many bytes wait in the socket's receive queue
// (SIOCINQ), 0 when it cannot be asked.
func socketUnread(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		return 0
	}
	return n
}
