//go:build failpoints

// Proves the failpoint machinery of tagged builds: specs parse as the
// package doc says and bad ones are refused whole; an armed point acts on
// the hits its @N and %P select and counts every hit; error actions reach
// the caller; off and Clear disarm; a crash ends the process at once with
// status 137 (checked on a child process running this test binary).
package failpoint

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseSpec(t *testing.T) {
	good := map[string]string{
		"raft/after-log-write=crash@3":                          "raft/after-log-write=crash@3",
		" fsm/apply = sleep(50ms) ":                             "fsm/apply=sleep(50ms)",
		"raft/before-reply=error":                               "raft/before-reply=error(injected)",
		"raft/before-reply=error(disk on fire)%50":              "raft/before-reply=error(disk on fire)%50",
		"snapshot/restore-after=count":                          "snapshot/restore-after=count",
		"fsm/apply=sleep(1ms)@2%25;snapshot/restore-before=off": "fsm/apply=sleep(1ms)@2%25;snapshot/restore-before=off",
	}
	for spec, want := range good {
		acts, err := parseSpec(spec)
		if err != nil {
			t.Errorf("%q: %v", spec, err)
			continue
		}
		var got []string
		for _, term := range strings.Split(want, ";") {
			name, _, _ := strings.Cut(term, "=")
			got = append(got, name+"="+acts[name].String())
		}
		if strings.Join(got, ";") != want {
			t.Errorf("%q parsed as %q, want %q", spec, strings.Join(got, ";"), want)
		}
	}
	for _, bad := range []string{
		"raft/after-log-write",              // no action
		"raft/after-log-writ=crash",         // unknown point
		"fsm/apply=error",                   // a site that cannot fail
		"fsm/apply=sleep",                   // no duration
		"fsm/apply=sleep(2h)",               // over sleepMax
		"fsm/apply=crash@0",                 // hits count from 1
		"fsm/apply=crash%0",                 // no probability
		"fsm/apply=crash%101",               // over 100
		"fsm/apply=crash(now)",              // crash takes no argument
		"fsm/apply=explode",                 // unknown action
		"fsm/apply=sleep(1ms;raft/x=crash",  // unclosed
		strings.Repeat("x", specBytesMax+1), // too long
	} {
		if _, err := parseSpec(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestArmHitAndCount(t *testing.T) {
	t.Cleanup(Clear)
	if err := Err(RaftBeforeReply); err != nil {
		t.Fatalf("unarmed point: %v", err)
	}
	if err := Set("raft/before-reply=error(lost)@3;fsm/apply=count"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		err := Err(RaftBeforeReply)
		if (err != nil) != (i == 3) {
			t.Errorf("hit %d: %v", i, err)
		}
		if i == 3 && (err == nil || !strings.Contains(err.Error(), "raft/before-reply: lost")) {
			t.Errorf("hit 3: %v", err)
		}
		Hit(FSMApply)
	}
	if Hits(RaftBeforeReply) != 5 || Hits(FSMApply) != 5 {
		t.Errorf("hits %d and %d, want 5 and 5", Hits(RaftBeforeReply), Hits(FSMApply))
	}
	if s := Status(); !strings.Contains(s, "fsm/apply=count hits=5 fired=5\n") ||
		!strings.Contains(s, "raft/before-reply=error(lost)@3 hits=5 fired=1\n") {
		t.Errorf("status:\n%s", s)
	}
	// A bad spec changes nothing.
	if err := Set("fsm/apply=off;raft/nope=crash"); err == nil || Hits(FSMApply) != 5 {
		t.Errorf("bad spec: %v, fsm/apply hits %d", err, Hits(FSMApply))
	}
	if err := Set("fsm/apply=off"); err != nil || Hits(FSMApply) != 0 || Hits(RaftBeforeReply) != 5 {
		t.Errorf("off: %v, hits %d %d", err, Hits(FSMApply), Hits(RaftBeforeReply))
	}
	Clear()
	if Status() != "" || Err(RaftBeforeReply) != nil {
		t.Errorf("after Clear: %q", Status())
	}
}

func TestProbabilityAndSleep(t *testing.T) {
	t.Cleanup(Clear)
	if err := Set("raft/after-log-write=error%30"); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for range 2000 {
		if Err(RaftAfterLogWrite) != nil {
			failed++
		}
	}
	if failed < 450 || failed > 750 { // 600 expected; these bounds are over 6 sigma
		t.Errorf("%d of 2000 hits failed at 30%%", failed)
	}
	if err := Set("snapshot/persist-after-close=sleep(30ms)@2"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		start := time.Now()
		Hit(SnapshotPersistAfterClose)
		slept := time.Since(start) >= 30*time.Millisecond
		if slept != (i == 2) {
			t.Errorf("hit %d slept %v", i, slept)
		}
	}
}

// TestCrash runs this test binary again with a crash armed through the
// environment; the child must end with status 137 before it prints past
// the point.
func TestCrash(t *testing.T) {
	if os.Getenv("FAILPOINT_CHILD") == "1" {
		if err := Setup(nil); err != nil {
			t.Fatal(err)
		}
		Hit(FSMApply)
		os.Stdout.WriteString("after first hit\n")
		Hit(FSMApply)
		os.Stdout.WriteString("after second hit\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.v")
	cmd.Env = append(os.Environ(), "FAILPOINT_CHILD=1", EnvSpec+"=fsm/apply=crash@2")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != CrashStatus {
		t.Fatalf("child: %v, want exit status %d\n%s", err, CrashStatus, out)
	}
	if !strings.Contains(string(out), "after first hit") || strings.Contains(string(out), "after second hit") ||
		!strings.Contains(string(out), "failpoint: crash") {
		t.Errorf("child output:\n%s", out)
	}
}

func TestSetupRefusesBadEnv(t *testing.T) {
	t.Setenv(EnvSpec, "fsm/apply=error")
	if err := Setup(nil); err == nil {
		t.Error("Setup accepted an error action at fsm/apply")
	}
}
