package engine

// Copies of commands. A decoded command's byte fields point into the
// buffer it was decoded from (a connection's read buffer, reused by the
// next read); whoever keeps a command past that buffer's life (a proposal
// that may be run again with a claim, a forwarded command, a read waiting
// for its read-index round) keeps a copy made here. This is the one place
// that lists a command's byte fields, so a new one cannot be forgotten by
// one copy and not another (clone_test.go checks it by reflection).

// byteFields returns pointers to every byte slice of c.
func (c *Command) byteFields() [8]*[]byte {
	return [8]*[]byte{&c.SKU, &c.Store, &c.Customer, &c.Key, &c.Claim, &c.Zone, &c.Actor, &c.Reason}
}

// CloneCommands returns copies of cmds whose byte fields share one new
// buffer: nothing of the result aliases cmds.
func CloneCommands(cmds []Command) []Command {
	out, _ := CloneCommandsInto(make([]Command, 0, len(cmds)), nil, cmds)
	return out
}

// CloneCommandsInto appends copies of cmds to dst, their byte fields copied
// into buf, which is reused when it has room (the caller must no longer
// need what buf held). It returns dst and buf, for reuse by a pooled
// record. A nil field stays nil; an empty one stays empty and non-nil.
func CloneCommandsInto(dst []Command, buf []byte, cmds []Command) ([]Command, []byte) {
	n := BytesOf(cmds)
	if cap(buf) < n {
		buf = make([]byte, 0, n)
	}
	buf = buf[:0]
	for i := range cmds {
		dst = append(dst, cmds[i])
		c := &dst[len(dst)-1]
		for _, f := range c.byteFields() {
			buf = cloneBytes(f, buf)
		}
		if c.Items != nil {
			c.Items = append([]ItemPut(nil), c.Items...) // a bulk put's list: its own, then its ids
			for k := range c.Items {
				buf = cloneBytes(&c.Items[k].SKU, buf)
				buf = cloneBytes(&c.Items[k].Store, buf)
			}
		}
	}
	return dst, buf
}

// BytesOf returns the bytes a copy of cmds' byte fields takes: what
// CloneCommandsInto needs of buf to allocate nothing.
func BytesOf(cmds []Command) int {
	n := 0
	for i := range cmds {
		for _, f := range cmds[i].byteFields() {
			n += len(*f)
		}
		for k := range cmds[i].Items {
			n += len(cmds[i].Items[k].SKU) + len(cmds[i].Items[k].Store)
		}
	}
	return n
}

// cloneBytes points *f at a copy of its bytes appended to buf, which has
// room for them (earlier copies stay where they are).
func cloneBytes(f *[]byte, buf []byte) []byte {
	switch {
	case *f == nil:
		return buf
	case len(*f) == 0:
		*f = []byte{} // empty, not nil, and nothing shared
		return buf
	}
	start := len(buf)
	buf = append(buf, *f...)
	*f = buf[start:len(buf):len(buf)]
	return buf
}
