package worker

import (
	"sync"
	"time"

	"github.com/taskware/taskware/queue"
)

// progressEvery is the most often a run's progress is written: a task may
// report in a tight loop, and each write costs its backend a command.
const progressEvery = time.Second

// progress throttles a run's reports (task.Progress) to one write per
// progressEvery: the first goes at once, later ones wait for the next
// slot, the latest value winning, so that the last report before a pause
// is written within progressEvery. Nothing is written once the run ended.
type progress struct {
	mu      sync.Mutex
	latest  queue.Progress
	pending bool        // latest is not written yet
	last    time.Time   // when a report was last written
	timer   *time.Timer // the next write, if one is due
	ended   bool
}

// endedProgress stands in for the reports of every run that ended.
var endedProgress = &progress{ended: true}

// reports returns r's progress, made on its first report, so that a run
// that never reports pays nothing for it: endedProgress once it ended.
func (r *run) reports() *progress {
	if p := r.progress.Load(); p != nil {
		return p
	}
	if p := new(progress); r.progress.CompareAndSwap(nil, p) {
		return p
	}
	return r.progress.Load()
}

// Report implements task.Reporter for r's run. It never waits on the
// backend: a write is sent without waiting (or, on memory, made at once).
func (r *run) Report(done, total int64, msg string) {
	p := r.reports()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	now := time.Now()
	p.latest, p.pending = queue.Progress{Done: done, Total: total, Message: msg, At: now}, true
	if p.timer != nil {
		return // a write is due: it takes the latest
	}
	if wait := progressEvery - now.Sub(p.last); !p.last.IsZero() && wait > 0 {
		p.timer = time.AfterFunc(wait, func() { r.flushProgress(p) })
		return
	}
	r.writeProgress(p)
}

// flushProgress writes p's latest report, if the run goes on.
func (r *run) flushProgress(p *progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer = nil
	if !p.ended && p.pending {
		r.writeProgress(p)
	}
}

// writeProgress writes p's latest report. p.mu is held.
func (r *run) writeProgress(p *progress) {
	p.pending, p.last = false, time.Now()
	if err := r.w.queue.Progress(r.w.finishCtx, r.d, p.latest); err != nil {
		r.w.onError(err)
		return
	}
	if r.w.progressEvents && r.w.events.on() {
		e := r.w.event(EventProgress, r.d, nil)
		e.Progress = p.latest
		r.w.events.publish(&e)
	}
}

// endProgress stops r's reports: none is written once the run ended (and
// its finish clears the one that stands).
func (r *run) endProgress() {
	p := r.progress.Swap(endedProgress)
	if p == nil || p == endedProgress {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}
