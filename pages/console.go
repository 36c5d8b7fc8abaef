package pages

import (
	"net/http"
	"sort"

	"github.com/invsys/inv/engine"
)

// consoleAnswer is everything the console shows, in one answer the page
// asks for a few times a second. The book's part comes from the change
// feed; the KPIs and refusals are the engines' own counts; the node's part
// is raft's and the edge's.
type consoleAnswer struct {
	Node     NodeStatus    `json:"node"`
	KPIs     pickupKPIs    `json:"kpis"`
	Refusals []refusalRow  `json:"refusals"`
	Feed     []shardFollow `json:"feed"`
	Overview
}

// pickupKPIs are the engines' counts of how orders end, since each
// shard's first entry: the on-time rate is collected over collected and
// not collected by the deadline.
type pickupKPIs struct {
	Confirmed      int64   `json:"confirmed"`
	PickedUp       int64   `json:"picked_up"`
	NoShow         int64   `json:"no_show"`
	Cancelled      int64   `json:"cancelled"`
	Expired        int64   `json:"expired"`
	Returned       int64   `json:"returned"`
	AwaitingPickup int64   `json:"awaiting_pickup"`
	ActiveHolds    int64   `json:"active_holds"`
	OnTimeRate     float64 `json:"on_time_rate"` // picked up / (picked up + no-show); 0 before either
}

type refusalRow struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// shardFollow is how far the book follows a shard's feed.
type shardFollow struct {
	Shard    int    `json:"shard"`
	Live     bool   `json:"live"`
	Complete bool   `json:"complete"` // replayed from the shard's first event
	Position string `json:"position"`
}

func (h *Handler) overview(w http.ResponseWriter, _ *http.Request, _ *Access) {
	now := h.now()
	ans := consoleAnswer{Node: h.be.Node(), Refusals: []refusalRow{},
		Overview: h.book.Overview(consoleRows, now.UnixNano(), now.Unix())}
	var refusals [len(engine.Stats{}.Refusals)]int64
	for _, sh := range h.shards {
		if !sh.IsMember() {
			continue // a replica this node does not hold: its counts are not kept up to date
		}
		st := sh.Stats()
		ans.KPIs.Confirmed += st.Outcomes[engine.StateConfirmed]
		ans.KPIs.PickedUp += st.Outcomes[engine.StatePickedUp]
		ans.KPIs.NoShow += st.Outcomes[engine.StateNoShow]
		ans.KPIs.Cancelled += st.Outcomes[engine.StateCancelled]
		ans.KPIs.Expired += st.Outcomes[engine.StateExpired]
		ans.KPIs.Returned += st.Outcomes[engine.StateReturned]
		ans.KPIs.AwaitingPickup += st.AwaitingPickup
		ans.KPIs.ActiveHolds += st.ActiveHolds
		for c, n := range st.Refusals {
			refusals[c] += n
		}
	}
	if done := ans.KPIs.PickedUp + ans.KPIs.NoShow; done > 0 {
		ans.KPIs.OnTimeRate = float64(ans.KPIs.PickedUp) / float64(done)
	}
	for c, n := range refusals {
		if n > 0 {
			ans.Refusals = append(ans.Refusals, refusalRow{Reason: engine.Code(c).String(), Count: n})
		}
	}
	sort.Slice(ans.Refusals, func(i, j int) bool { return ans.Refusals[i].Count > ans.Refusals[j].Count })
	ans.Feed = h.book.follows()
	writeJSON(w, http.StatusOK, ans)
}
