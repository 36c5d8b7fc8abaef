// These tests prove that the pages' book follows the change feed only
// while the pages are used: nothing reads the feed before the first request
// of the API, that request is answered from a book caught up with
// everything the feed holds (a code confirmed before it is found, not "not
// listed"), the book stops and drops what it holds once no request came
// for the idle time, and the next request starts it again with what
// happened in between.
package pages

import (
	"net/http"
	"testing"
	"time"
)

func (n *testNode) readCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.reads
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("waited 5 s for %s", what)
}

func TestBookFollowsOnlyWhileThePagesAreUsed(t *testing.T) {
	const idle = 300 * time.Millisecond
	n := newTestNode(t)
	f := newFixtureIdle(t, n, idle)
	s := putShop(t, n)
	_, code := s.order(t, n, s.tpe, "M00012345", 2, s.now)

	time.Sleep(idle / 2)
	if r := n.readCount(); r != 0 || f.keep.following() || len(f.book.follows()) != 0 {
		t.Fatalf("before any request: %d feed reads, following %v, book %v", r, f.keep.following(), f.book.follows())
	}

	// The first request wakes the book and is answered from it caught up:
	// the code confirmed before it is found.
	if out := f.check(t, s.tpe, codeText(code)); out["outcome"] != "ready" {
		t.Fatalf("first check after the book woke: %v", out)
	}
	if !f.keep.following() || !f.book.liveFor([]Shard{n}) {
		t.Fatalf("after the first request: following %v, book %v", f.keep.following(), f.book.follows())
	}

	// Requests keep it following past idle.
	for range 4 {
		time.Sleep(idle / 2)
		if st, out := f.call(t, "GET", "/api/console/overview", "", nil); st != http.StatusOK {
			t.Fatalf("overview: %d %v", st, out)
		}
	}
	if !f.keep.following() {
		t.Fatal("the book stopped although the pages were used within idle")
	}

	// Unused for idle, it stops and drops what it holds; the feed is no
	// longer read.
	waitFor(t, "the book to stop", func() bool { return !f.keep.following() })
	if got := f.book.follows(); len(got) != 0 {
		t.Fatalf("a stopped book still holds its shards: %v", got)
	}
	if id, _ := f.book.Lookup(s.tpe, code); id != 0 {
		t.Fatalf("a stopped book still holds order %d", id)
	}
	before := n.readCount()
	_, later := s.order(t, n, s.khh, "M00099999", 1, s.now)
	time.Sleep(idle / 2)
	if r := n.readCount(); r != before {
		t.Fatalf("a stopped book read the feed %d times", r-before)
	}

	// The next request starts it again, with what happened meanwhile.
	if out := f.check(t, s.khh, codeText(later)); out["outcome"] != "ready" {
		t.Fatalf("check after the book woke again: %v", out)
	}
	if out := f.check(t, s.tpe, codeText(code)); out["outcome"] != "ready" {
		t.Fatalf("the earlier order after the book woke again: %v", out)
	}
}

// A request that only asks who its token is (the pages ask it first)
// wakes the book without waiting for it; a request refused its token
// wakes nothing.
func TestBookWakesOnAuthorisedRequestsOnly(t *testing.T) {
	n := newTestNode(t)
	n.tokens = map[string]Access{"op": {Role: RoleOperator}}
	f := newFixtureIdle(t, n, time.Minute)
	putShop(t, n)
	if st, _ := f.call(t, "GET", "/api/console/overview", "wrong", nil); st != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", st)
	}
	time.Sleep(50 * time.Millisecond)
	if f.keep.following() || n.readCount() != 0 {
		t.Fatalf("a refused request woke the book: following %v, %d reads", f.keep.following(), n.readCount())
	}
	if st, out := f.call(t, "GET", "/api/session", "op", nil); st != http.StatusOK {
		t.Fatalf("session: %d %v", st, out)
	}
	if !f.keep.following() {
		t.Fatal("an operator's session did not wake the book")
	}
	waitFor(t, "the book to catch up", func() bool { return f.book.liveFor([]Shard{n}) })
}

// A use that lands while the followers stop (after the idle time passed,
// before they have stopped) starts them again at once.
func TestBookUsedWhileStoppingStartsAgain(t *testing.T) {
	const idle = 100 * time.Millisecond
	n := newTestNode(t)
	putShop(t, n)
	f := newFixtureIdle(t, n, idle)
	for i := range 40 {
		f.keep.Use()
		time.Sleep(idle + time.Duration(i%5)*time.Millisecond - 2*time.Millisecond)
	}
	f.keep.Use()
	waitFor(t, "the book to follow live after the last use", func() bool { return f.book.liveFor([]Shard{n}) })
	if !f.keep.following() {
		t.Fatal("not following after the last use")
	}
}
