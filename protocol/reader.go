package protocol

import (
	"errors"
	"io"
)

// Reader reads frames from a stream (a client's net.Conn). It reads in
// large chunks into one reusable buffer, so a pipelined connection gets many
// frames per read syscall, and decompresses into a second reusable buffer.
// Memory stays bounded by the frame limit: the read buffer grows only to
// hold a frame whose header has been checked against it.
type Reader struct {
	r        io.Reader
	maxFrame int
	buf      []byte // buf[off:end] holds bytes read but not yet returned
	off, end int
	scratch  []byte // decompressed payloads
	err      error  // sticky: the stream is unusable after a framing error
}

// readChunk is the initial read buffer: room for hundreds of typical replies
// per read, small enough for many idle connections.
const readChunk = 64 << 10

// NewReader returns a Reader of r that refuses frames over maxFrame bytes
// (as in ReadFrame: zero or less means DefaultMaxFrameBytes).
func NewReader(r io.Reader, maxFrame int) *Reader {
	maxFrame = normMaxFrame(maxFrame)
	return &Reader{r: r, maxFrame: maxFrame, buf: make([]byte, min(readChunk, maxFrame))}
}

// Next returns the next frame, decompressed. Its payload is valid until the
// next call. At a clean end of stream it returns io.EOF; a stream that ends
// inside a frame gives io.ErrUnexpectedEOF. A frame over the limit, or with
// invalid flags, or that does not decompress, is an error after which the
// Reader returns the same error forever: the stream cannot be trusted to be
// at a frame boundary any more.
func (r *Reader) Next() (Frame, error) {
	if r.err != nil {
		return Frame{}, r.err
	}
	for {
		f, n, err := ReadFrame(r.buf[r.off:r.end], r.maxFrame)
		if err == nil {
			r.off += n
			f, r.scratch, err = DecompressFrame(r.scratch, f, r.maxFrame)
			if err != nil {
				r.err = err
				return Frame{}, err
			}
			return f, nil
		}
		if err != ErrIncomplete {
			r.err = err
			return Frame{}, err
		}
		if err := r.fill(); err != nil {
			r.err = err
			return Frame{}, err
		}
	}
}

// fill reads more bytes, first making room for the frame that is pending:
// moving it to the front of the buffer, and growing the buffer if the frame
// (already checked against the limit by ReadFrame) is larger than it.
func (r *Reader) fill() error {
	pending := r.buf[r.off:r.end]
	need := len(r.buf) // while the header is incomplete, any room will do
	if size, ok := frameSize(pending); ok {
		need = size
	}
	if need > len(r.buf) {
		grown := make([]byte, min(max(need, 2*len(r.buf)), r.maxFrame))
		r.end = copy(grown, pending)
		r.off = 0
		r.buf = grown
	} else if r.off+need > len(r.buf) || r.off == r.end {
		r.end = copy(r.buf, pending)
		r.off = 0
	}
	// Like bufio, tolerate a few empty reads before calling it a broken reader.
	for range maxEmptyReads {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if n > 0 {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) && r.end > r.off {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return io.ErrNoProgress
}

const maxEmptyReads = 100
