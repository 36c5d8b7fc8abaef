package pages

import (
	"errors"
	"strings"

	"github.com/invsys/inv/engine"
)

// Scan is what a clerk scanned or typed at the counter: a pickup code alone
// (12 digits, ID 0) or the barcode form, which names the reservation too.
type Scan struct {
	ID   uint64 // 0: the code alone
	Code uint64
}

// maxScanBytes bounds what the counter takes: the barcode form is 31
// characters; a little room for spaces and dashes a person types.
const maxScanBytes = 64

var errNotACode = errors.New("not a pickup code: 12 digits, or the barcode INV followed by 28 characters")

// ParseScan reads a scan: the 12 digits of a code (spaces and dashes
// between them are allowed, as people type them from a receipt), or the
// barcode form engine.PickupBarcode prints ("INV", the reservation id in 16
// hex digits, the code), in either letter case.
func ParseScan(s string) (Scan, error) {
	if len(s) > maxScanBytes {
		return Scan{}, errNotACode
	}
	s = strings.TrimSpace(s)
	if len(s) >= 3 && strings.EqualFold(s[:3], "INV") {
		id, code, err := engine.ParseBarcode(strings.ToUpper(s))
		if err != nil || id == 0 {
			return Scan{}, errNotACode
		}
		return Scan{ID: id, Code: code}, nil
	}
	var code uint64
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			code = code*10 + uint64(c-'0')
			digits++
		case c == ' ' || c == '-':
		default:
			return Scan{}, errNotACode
		}
	}
	if digits != engine.PickupCodeDigits {
		return Scan{}, errNotACode
	}
	return Scan{Code: code}, nil
}

// MaskCustomer shows enough of a customer id for a clerk to match it with
// the person in front of them (the first two and last two characters) and
// no more: the counter's screen faces the queue.
func MaskCustomer(id string) string {
	r := []rune(id)
	switch {
	case len(r) == 0:
		return ""
	case len(r) <= 4:
		return string(r[:1]) + strings.Repeat("•", len(r)-1)
	}
	return string(r[:2]) + strings.Repeat("•", len(r)-4) + string(r[len(r)-2:])
}
