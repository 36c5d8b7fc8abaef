// Proves Item.In: every time of an item (sale window, member cutoff,
// pickup windows) comes out in the store's zone as the same instant, with
// Location set; zero times stay zero; the original's windows are not
// touched (In copies them); a nil zone is UTC.
package client

import (
	"testing"
	"time"
)

func TestItemIn(t *testing.T) {
	taipei, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	start := time.Date(2039, 12, 24, 2, 0, 0, 0, time.UTC)
	it := Item{SKU: "A", Store: "S", OpensAt: start.Add(-time.Hour),
		Windows: []Window{{Start: start, End: start.Add(time.Hour), Quota: 3}}}
	local := it.In(taipei)
	if local.Location != taipei || local.Windows[0].Start.Format(time.RFC3339) != "2039-12-24T10:00:00+08:00" ||
		!local.Windows[0].Start.Equal(start) || local.OpensAt.Format("15:04 -07:00") != "09:00 +08:00" {
		t.Fatalf("in Taipei: %+v", local)
	}
	if !local.ClosesAt.IsZero() || !local.MemberCutoff.IsZero() {
		t.Fatalf("zero times moved: %v %v", local.ClosesAt, local.MemberCutoff)
	}
	if it.Windows[0].Start.Location() != time.UTC || it.Location != nil {
		t.Fatal("In changed the original item")
	}
	if u := it.In(nil); u.Location != time.UTC || u.Windows[0].Start.Location() != time.UTC {
		t.Fatalf("a nil zone: %+v", u)
	}
}
