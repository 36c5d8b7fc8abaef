package bench

// Proves the outcome classification: engine codes map to the outcomes the
// reports count (by the code values of engine/codes.go, which are wire format
// and never renumbered), anything unexpected is an error rather than a
// refusal, and only the four refusals count as refused.

import (
	"testing"

	"github.com/invsys/inv/engine"
)

func TestOutcomeOfCode(t *testing.T) {
	for code, want := range map[engine.Code]Outcome{
		0:   OutcomeOK,
		3:   OutcomeSoldOut,
		4:   OutcomeWindowFull,
		5:   OutcomeLimitExceeded,
		11:  OutcomeNotFound, // unknown reservation
		12:  OutcomeNotFound, // expired
		13:  OutcomeNotFound, // not held any more
		1:   OutcomeError,    // bad request: the harness sent something wrong
		2:   OutcomeError,    // unknown item: the catalog was not loaded
		65:  OutcomeError,    // busy
		72:  OutcomeError,    // timeout, outcome unknown
		999: OutcomeError,
	} {
		if got := OutcomeOfCode(code); got != want {
			t.Errorf("code %d: %s, want %s", code, got, want)
		}
	}
	for o := range nOutcomes {
		want := o == OutcomeSoldOut || o == OutcomeWindowFull || o == OutcomeLimitExceeded || o == OutcomeNotFound
		if o.Refused() != want {
			t.Errorf("%s.Refused() = %v", o, o.Refused())
		}
	}
	if OutcomeError.String() != "error" || Outcome(42).String() != "outcome_42" || KindCancel.String() != "cancel" {
		t.Error("names")
	}
}
