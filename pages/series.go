package pages

import "github.com/invsys/inv/engine"

// series counts units per second of the engine's time for the console's
// live chart: reserved, confirmed and collected units, and wrong pickup
// codes tried, over the last seriesSeconds seconds.
type series struct {
	head  int64 // the Unix second of the newest slot; 0: nothing yet
	slots [seriesSeconds][seriesKinds]int64
}

// The kinds of the series, in the order of Series' slices.
const (
	seriesReserved = iota
	seriesConfirmed
	seriesPickedUp
	seriesBadCodes
	seriesKinds
)

func seriesKind(k engine.EventKind) int {
	switch k {
	case engine.EvReserved:
		return seriesReserved
	case engine.EvConfirmed:
		return seriesConfirmed
	case engine.EvPickedUp:
		return seriesPickedUp
	case engine.EvBadCode:
		return seriesBadCodes
	}
	return -1
}

// add counts an event in the slot of its second; events older than the
// span are left out (a feed replayed at start).
func (s *series) add(ev *engine.Event) {
	kind := seriesKind(ev.Kind)
	if kind < 0 {
		return
	}
	sec := ev.At / 1e9
	s.advance(sec)
	if sec <= s.head-seriesSeconds {
		return
	}
	n := ev.Qty
	if ev.Kind == engine.EvBadCode {
		n = 1
	}
	s.slots[slotOf(sec)][kind] += n
}

// advance moves the newest slot to sec, emptying the slots it passes.
func (s *series) advance(sec int64) {
	if s.head == 0 || sec-s.head >= seriesSeconds {
		s.slots = [seriesSeconds][seriesKinds]int64{}
		s.head = max(s.head, sec)
		return
	}
	for s.head < sec {
		s.head++
		s.slots[slotOf(s.head)] = [seriesKinds]int64{}
	}
}

func slotOf(sec int64) int64 { return (sec%seriesSeconds + seriesSeconds) % seriesSeconds }

// Series is the live chart's data: one value per second from Start (Unix
// seconds), oldest first.
type Series struct {
	Start     int64   `json:"start"`
	Reserved  []int64 `json:"reserved"`
	Confirmed []int64 `json:"confirmed"`
	PickedUp  []int64 `json:"picked_up"`
	BadCodes  []int64 `json:"bad_codes"`
}

// view returns the series up to the second now, quiet seconds as zeros.
func (s *series) view(now int64) Series {
	if now > s.head && s.head != 0 {
		s.advance(now)
	}
	head := max(s.head, now)
	v := Series{Start: head - seriesSeconds + 1}
	out := [seriesKinds]*[]int64{&v.Reserved, &v.Confirmed, &v.PickedUp, &v.BadCodes}
	for k := range out {
		*out[k] = make([]int64, seriesSeconds)
	}
	if s.head == 0 {
		return v
	}
	for i := int64(0); i < seriesSeconds; i++ {
		sec := v.Start + i
		if sec > s.head || sec <= s.head-seriesSeconds {
			continue
		}
		for k := range out {
			(*out[k])[i] = s.slots[slotOf(sec)][k]
		}
	}
	return v
}
