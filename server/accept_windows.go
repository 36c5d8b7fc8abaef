package server

import "net"

// shedWaiting reports false on Windows: Go's listener there accepts through
// overlapped I/O, with no non-blocking accept to call on its descriptor, so
// a shortage of handles is only waited out (listener.go).
func shedWaiting(net.Listener, []byte, func()) bool { return false }
