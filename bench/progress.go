package bench

import (
	"fmt"
	"io"
	"time"
)

// progress prints one line per interval while the driver runs: requests done,
// the rate over the last interval, errors so far, orders handed out. Whole
// lines rather than a line rewritten in place, so that a log of the run keeps
// them readable. It goes to stderr so stdout keeps only the table and JSON.
type progress struct {
	w     io.Writer
	every time.Duration
	label string
	stop  chan struct{}
	done  chan struct{}
}

func newProgress(w io.Writer, every time.Duration, label string) *progress {
	return &progress{w: w, every: every, label: label}
}

func (p *progress) begin(d *driver) {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.loop(d)
}

// end stops the line and waits for the printer, so nothing is printed after
// the driver returns.
func (p *progress) end() {
	close(p.stop)
	<-p.done
}

func (p *progress) loop(d *driver) {
	defer close(p.done)
	t := time.NewTicker(p.every)
	defer t.Stop()
	var lastDone int64
	last := d.start
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			done, failed, orders := d.progressCounts()
			rate := float64(done-lastDone) / now.Sub(last).Seconds()
			lastDone, last = done, now
			fmt.Fprintf(p.w, "%s %6.1fs  requests %10d  rate %9.0f/s  errors %d  orders %d/%d\n",
				p.label, now.Sub(d.start).Seconds(), done, rate, failed, orders, len(d.w.Orders))
		}
	}
}
