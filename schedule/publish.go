package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/queue"
)

// How a running Scheduler publishes its entries (see Publish).
const (
	// PublishEvery is how often it publishes while nothing changes; it
	// also publishes after each tick it handles.
	PublishEvery = 15 * time.Second
	// PublishTTL is how long a publication lasts: a scheduler that stopped
	// without withdrawing its entries (a crash) drops off after it.
	PublishTTL = 4 * PublishEvery
	// publishTimeout bounds one publication.
	publishTimeout = 5 * time.Second
)

// Publish makes the Scheduler publish its entries to board while it runs
// (a backend's queue: redisbackend's and memorybackend's implement
// queue.Schedules), so that operators see them, their next and last ticks
// and missed ticks, in the web view's schedules page. It publishes after
// each tick, and every PublishEvery, and withdraws them when Run returns.
// name tells schedulers apart there; "" makes one of the host's name, the
// process ID and a random suffix. It panics with an error matching
// task.ErrInvalidConfig on a nil board.
func Publish(board queue.Schedules, name string) Option {
	if board == nil {
		panic(configError("Publish: nil board"))
	}
	if name == "" {
		host, _ := os.Hostname()
		name = host + "/" + strconv.Itoa(os.Getpid()) + "/" + randid.New()[:6]
	}
	return optionFunc(func(s *Scheduler) { s.board, s.name = board, name })
}

// publisher paces a Run's publications.
type publisher struct {
	board queue.Schedules
	last  time.Time // of the latest publication tried
}

// publish publishes states if something changed, or a while passed. It
// returns an error to report, once per failed publication; a board that
// does not support schedules is dropped, silently.
func (p *publisher) publish(ctx context.Context, s *Scheduler, states []*state, changed bool) error {
	now := s.now()
	if p.board == nil || !changed && now.Sub(p.last) < PublishEvery && !p.last.IsZero() {
		return nil
	}
	p.last = now
	entries := make([]queue.ScheduleEntry, len(states))
	for i, st := range states {
		e := queue.ScheduleEntry{Name: st.name, Spec: cmp.Or(st.spec, spec(st.sched)), Task: st.task, Queue: st.queue,
			Next: st.next, Missed: st.missed, Published: now}
		if st.tick.Status != 0 {
			e.Last, e.LastStatus = st.tick.At, st.tick.Status.String()
		}
		entries[i] = e
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	err := p.board.PublishSchedules(ctx, s.name, entries, PublishTTL)
	switch {
	case err == nil, ctx.Err() != nil:
		return nil
	case errors.Is(err, queue.ErrNotSupported):
		p.board = nil
		return nil
	}
	return fmt.Errorf("schedule: publish %s: %w", s.name, err)
}

// withdraw takes the entries off the board as Run returns, its ctx ended.
func (p *publisher) withdraw(ctx context.Context, name string) {
	if p.board == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	_ = p.board.PublishSchedules(ctx, name, nil, PublishTTL) // else it expires
}

// spec shows a schedule as fmt does: by its String method, if it has one
// (Every's, contrib/cron's).
func spec(sc Schedule) string { return fmt.Sprint(sc) }
