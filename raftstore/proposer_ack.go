package raftstore

import "fmt"

// The ack stage of a proposer on a node whose proposers record what they
// acknowledge (a single node: marks.go, docs/adr/0016). An entry's results
// may only be replied once the marks file says they were acknowledged, so
// that a restart on a log that lost them knows. The resolver hands each
// answered entry here and goes on waiting for the next one: the mark's
// synced write overlaps the next entries' commit instead of adding to it.
// One write covers every entry answered while the last one was under way;
// each entry keeps its in-flight slot until it is replied, which bounds
// the stage by MaxInFlight.

// answered is an entry whose outcome is known and whose waiters wait for
// the mark.
type answered struct {
	b    *batch
	resp *ApplyResponse
	err  error
}

func (p *proposer) ackLoop(acks <-chan answered, done chan<- struct{}) {
	defer close(done)
	var round []answered
	for a := range acks {
		round = append(round[:0], a)
		round = drain(acks, round)
		p.ackRound(round)
		clear(round) // drop the batches: raft keeps their bytes
	}
}

// drain appends whatever waits in acks without blocking.
func drain(acks <-chan answered, round []answered) []answered {
	for {
		select {
		case a, ok := <-acks:
			if !ok {
				return round
			}
			round = append(round, a)
		default:
			return round
		}
	}
}

// ackRound records the highest index of the round's committed entries,
// then replies to every entry of the round.
func (p *proposer) ackRound(round []answered) {
	var index uint64
	for _, a := range round {
		if a.err == nil {
			index = max(index, a.resp.Index)
		}
	}
	if index > 0 {
		if err := p.cfg.ack(index); err != nil {
			// Committed, but the node could not record it: it cannot
			// promise to keep it, so it does not say it did.
			for i := range round {
				if round[i].err == nil {
					round[i].resp, round[i].err = nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
				}
			}
		}
	}
	for _, a := range round {
		p.reply(a.b, a.resp, a.err)
	}
}
