package worker

import (
	"context"
	"log/slog"
	"strings"
)

// Logger logs one structured record per event of the worker or client on
// l, at a level that says whether anyone should look: Debug for enqueued,
// started and progress, Info for succeeded, skipped (contention is not an error,
// nor a joiner of a holder that failed: middleware.ErrJoined),
// rescheduled, canceled and handed back, Warn for retrying, lease lost,
// abandoned, taken over and superseded, Error for failed and
// dead-lettered; a workflow's events at Info, but its failure at Error.
// Like any subscriber
// (OnEvent), it never slows a task. On a worker, it also takes the errors
// that OnError would report, unless OnError is set.
func Logger(l *slog.Logger) EventOption {
	if l == nil {
		panic(configError("Logger: nil logger"))
	}
	return loggerOption{l}
}

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) apply(w *Worker) {
	if w.logger == nil {
		w.logger = o.l
	}
	OnEvent(o.log).apply(w)
}

func (o loggerOption) applyClient(c *Client) { OnEvent(o.log).applyClient(c) }

// LogLevel is the level Logger logs an event of kind k at.
func LogLevel(k EventKind) slog.Level {
	switch k {
	case EventEnqueued, EventStarted, EventProgress:
		return slog.LevelDebug
	case EventRetrying, EventLeaseLost, EventAbandoned, EventTakenOver, EventSuperseded:
		return slog.LevelWarn
	case EventFailed, EventDeadLettered, EventWorkflowFailed:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (o loggerOption) log(e Event) {
	level := LogLevel(e.Kind)
	ctx := context.Background()
	if !o.l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 14)
	msg := "task " + string(e.Kind)
	if e.Kind.OfWorkflow() {
		msg = strings.Replace(string(e.Kind), "_", " ", 1) // "workflow started"
		attrs = append(attrs, slog.String("queue", e.Queue), slog.String("workflow", e.Workflow))
		if e.Step != "" {
			attrs = append(attrs, slog.String("step", e.Step))
		}
	} else {
		attrs = append(attrs, slog.String("task", e.Task), slog.String("queue", e.Queue), slog.String("id", e.ID),
			slog.Int("attempt", e.Attempt))
		if e.Workflow != "" {
			attrs = append(attrs, slog.String("workflow", e.Workflow), slog.String("step", e.Step))
		}
	}
	if e.Worker != "" {
		attrs = append(attrs, slog.String("worker", e.Worker))
	}
	if e.Duration > 0 {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if e.Waited > 0 {
		attrs = append(attrs, slog.Duration("waited", e.Waited))
	}
	if e.Kind == EventProgress {
		attrs = append(attrs, slog.String("progress", e.Progress.String()))
	}
	if e.LockKey != "" {
		attrs = append(attrs, slog.String("lock", e.LockKey), slog.Int64("fence", e.Fence))
	}
	if !e.RunAt.IsZero() {
		attrs = append(attrs, slog.Time("run_at", e.RunAt))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("err", e.Err.Error()))
	}
	o.l.LogAttrs(ctx, level, msg, attrs...)
}
