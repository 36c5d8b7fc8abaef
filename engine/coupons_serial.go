package engine

import (
	"errors"
	"fmt"
)

// A coupon serial's printed form (docs/adr/0106): CouponSerialDigits
// decimal digits, the serial's ID in 20 digits, its 12-digit code, then a
// check digit. Digits only, so that Code 128's set C prints it in 17
// symbols and a counter can key it in by hand; the check digit (the
// EAN-13 rule: weights 3 and 1 from the right, modulo 10) catches any one
// mistyped digit and most swaps of neighbours before the request is sent.
// The ID's high bits name the shard that owns the serial, so a counter
// redeems it without knowing its issue.

// CouponSerialDigits is the length of a serial's printed form.
const CouponSerialDigits = 20 + PickupCodeDigits + 1

var errCouponSerial = errors.New("not a coupon serial: 33 digits, the last a check digit")

// CouponSerial prints a serial (its ID and code) with its check digit.
func CouponSerial(id, code uint64) string {
	s := fmt.Sprintf("%020d%012d", id, code)
	return s + string(rune('0'+checkDigit(s)))
}

// ParseCouponSerial is the inverse of CouponSerial. Spaces and dashes a
// person typed between groups of digits are skipped; a wrong check digit
// is an error.
func ParseCouponSerial(s string) (id, code uint64, err error) {
	digits := make([]byte, 0, CouponSerialDigits)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '-':
		case c >= '0' && c <= '9' && len(digits) < CouponSerialDigits:
			digits = append(digits, c)
		default:
			return 0, 0, errCouponSerial
		}
	}
	if len(digits) != CouponSerialDigits {
		return 0, 0, errCouponSerial
	}
	body := string(digits[:CouponSerialDigits-1])
	if int(digits[CouponSerialDigits-1]-'0') != checkDigit(body) {
		return 0, 0, fmt.Errorf("coupon serial: wrong check digit (a digit was mistyped)")
	}
	for _, c := range body[:20] {
		d := uint64(c - '0')
		if id > (^uint64(0)-d)/10 {
			return 0, 0, errCouponSerial // past 2^64
		}
		id = id*10 + d
	}
	for _, c := range body[20:] {
		code = code*10 + uint64(c-'0')
	}
	return id, code, nil
}

// checkDigit is the EAN-13 check digit of a string of digits: weights 3,
// 1, 3 ... from the rightmost digit.
func checkDigit(s string) int {
	sum := 0
	for i := 0; i < len(s); i++ {
		w := 1
		if (len(s)-i)%2 == 1 {
			w = 3
		}
		sum += w * int(s[i]-'0')
	}
	return (10 - sum%10) % 10
}
