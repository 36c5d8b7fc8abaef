package engine

import "fmt"

// Cheap assertions, on in every build: after every change to an item's
// counts (stock, held, confirmed, picked up, member share), a window's use
// or a customer's or claim's units, a check of that one record that the
// books still balance: nothing promised beyond stock, no window over its
// quota, no count below zero. A broken one is a bug of the engine, and the
// engine stops at the change that broke it rather than apply, replicate
// and snapshot a wrong state (a panic in FSM.Apply stops the node; its
// replicas apply the same entry and stop too, so no wrong answer goes out).
// Each costs a few compares of values the change just wrote. The full walk
// of the shard (check.go) stays behind the invariants build tag.

// assertItem checks an item's counts after a change.
func assertItem(it *item) {
	// One sign test covers the three counts (an OR is negative iff one is).
	if h, c, p := it.held, it.confirmed, it.pickedUp; h|c|p < 0 || h+c+p > it.stock {
		brokenItem(it)
	}
}

// assertShare checks an item's member share after a change of its use.
func assertShare(it *item) {
	if it.ext.memberUsed < 0 {
		brokenItem(it)
	}
}

// assertWindow checks a pickup window's use after a change.
func assertWindow(w *window) {
	if w != nil && (w.used < 0 || w.used > w.quota) {
		brokenWindow(w)
	}
}

// assertCount checks a count that must never go below zero.
func assertCount(n int32, what string) {
	if n < 0 {
		brokenCount(n, what)
	}
}

// The cold paths, out of line so that the checks above inline.

//go:noinline
func brokenItem(it *item) {
	var used int32
	if it.ext != nil {
		used = it.ext.memberUsed
	}
	panic(fmt.Sprintf("engine: invariant broken: item %q/%q stock %d held %d confirmed %d picked up %d member share used %d",
		it.skuName(), it.storeName(), it.stock, it.held, it.confirmed, it.pickedUp, used))
}

//go:noinline
func brokenWindow(w *window) {
	panic(fmt.Sprintf("engine: invariant broken: window %d used %d of quota %d", w.start, w.used, w.quota))
}

//go:noinline
func brokenCount(n int32, what string) {
	panic(fmt.Sprintf("engine: invariant broken: %s went below zero (%d)", what, n))
}
