package protocol

import (
	"errors"
	"strconv"

	"github.com/invsys/inv/engine"
)

// Error is a decoding failure. Its Code is the one the server puts in the
// ERROR reply it answers with (from engine's single code table):
// CodeProtocol for malformed bytes, CodeTooLarge for a frame, field, count
// or batch over its limit, CodeUnknownOp for an op code this version does
// not know.
type Error struct {
	Code engine.Code
	Msg  string
}

// Error returns "protocol: <code name>: <message>".
func (e *Error) Error() string { return "protocol: " + e.Code.String() + ": " + e.Msg }

// Is makes errors.Is(err, ErrTooLarge) (and the other sentinels) match every
// Error of the same code, whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is; the errors returned carry a precise message.
var (
	ErrMalformed = &Error{Code: engine.CodeProtocol, Msg: "malformed frame"}
	ErrTooLarge  = &Error{Code: engine.CodeTooLarge, Msg: "over a limit"}
	ErrUnknownOp = &Error{Code: engine.CodeUnknownOp, Msg: "unknown op code"}
)

// ErrIncomplete is returned by ReadFrame when buf holds only part of a frame:
// not an error of the peer; read more bytes and call again.
var ErrIncomplete = errors.New("protocol: incomplete frame")

// CodeOf returns the code to send in an ERROR reply for err: the Error's own
// code, or CodeInternal for anything else.
func CodeOf(err error) engine.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return engine.CodeInternal
}

// Errors without arguments are preallocated: a hostile peer sending garbage
// should not make the decoder allocate.
var (
	errTruncated    = &Error{Code: engine.CodeProtocol, Msg: "payload ends inside a field"}
	errTrailing     = &Error{Code: engine.CodeProtocol, Msg: "bytes after the last field"}
	errZeroPresent  = &Error{Code: engine.CodeProtocol, Msg: "field marked present holds its zero value"}
	errBadBool      = &Error{Code: engine.CodeProtocol, Msg: "boolean byte other than 0 or 1"}
	errReservedMask = &Error{Code: engine.CodeProtocol, Msg: "reserved bit set in a field mask"}
	errFlags        = &Error{Code: engine.CodeProtocol, Msg: "reserved or invalid header flag bits set"}
	errEmptyList    = &Error{Code: engine.CodeProtocol, Msg: "list marked present with zero entries"}
)

func malformed(msg string) error { return &Error{Code: engine.CodeProtocol, Msg: msg} }

func unknownOp(op Op) error {
	return &Error{Code: engine.CodeUnknownOp, Msg: "op code 0x" + hex2(uint8(op)) + " (" + op.String() + ")"}
}

// tooLarge reports a length or count over its limit, naming both.
func tooLarge(what string, n, limit int) error {
	return &Error{Code: engine.CodeTooLarge,
		Msg: what + " of " + strconv.Itoa(n) + " over the limit of " + strconv.Itoa(limit)}
}
