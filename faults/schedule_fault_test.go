package faults_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
)

// The calls that change stored schedule entries run a thousand times each
// with their reply dropped: Redis runs the script, the connection breaks
// before the reply arrives, and go-redis sends it again. Each must answer
// as if it ran once: a put or a pause changes the version once, not twice
// (the second finds the entry as the first left it); a remove answers nil,
// not ErrNotFound (the second finds the first's tombstone, by its nonce);
// a resume keeps the first's Since.
func TestFaultResentScheduleCalls(t *testing.T) {
	const n = 1000
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix)).Queue()
	ctx := context.Background()
	scripts := func(cmd []string) bool { return cmd[0] == "evalsha" || cmd[0] == "eval" }
	def := func(i int) queue.ScheduleDef {
		return queue.ScheduleDef{Name: fmt.Sprint("s", i), Spec: "every 1h0m0s", Task: "report", Queue: "default", Args: []byte(`"x"`)}
	}
	// bumps runs op and returns how much it changed the version.
	bumps := func(op func() error) (int64, error) {
		v0, err := clean.ScheduleVersion(ctx)
		if err != nil {
			return 0, fmt.Errorf("setting up: %w", err)
		}
		if err := op(); err != nil {
			return 0, err
		}
		v1, err := clean.ScheduleVersion(ctx)
		return v1 - v0, err
	}
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	// Each op returns an error if its call answers wrongly or does more
	// than once; each check reads what the calls left, without faults.
	stored := func(want int) func() error {
		return func() error {
			defs, _, err := clean.ScheduleDefs(ctx)
			if err == nil && len(defs) != want {
				err = fmt.Errorf("%d entries stored, want %d", len(defs), want)
			}
			return err
		}
	}
	resumed := func() error {
		defs, _, err := clean.ScheduleDefs(ctx)
		if err != nil {
			return err
		}
		for _, d := range defs {
			var i int
			fmt.Sscanf(d.Name, "s%d", &i)
			if d.Paused || !d.Since.Equal(at.Add(time.Duration(i)*time.Millisecond)) {
				return fmt.Errorf("%s after its resume: paused %v, Since %v", d.Name, d.Paused, d.Since)
			}
		}
		return nil
	}
	kinds := []resentCall{
		{"put", "version changed twice", func(i int) error {
			d, err := bumps(func() error { return faulty.PutSchedule(ctx, def(i)) })
			if err == nil && d != 1 {
				err = fmt.Errorf("put %d changed the version by %d, want 1", i, d)
			}
			return err
		}, stored(n)},
		{"pause", "version changed twice", func(i int) error {
			d, err := bumps(func() error { return faulty.PauseSchedule(ctx, def(i).Name, true, at) })
			if err == nil && d != 1 {
				err = fmt.Errorf("pause %d changed the version by %d, want 1", i, d)
			}
			return err
		}, stored(n)},
		{"resume", "Since moved", func(i int) error {
			if err := faulty.PauseSchedule(ctx, def(i).Name, false, at.Add(time.Duration(i)*time.Millisecond)); err != nil {
				return err
			}
			return nil
		}, resumed},
		{"remove", "ErrNotFound", func(i int) error {
			d, err := bumps(func() error { return faulty.RemoveSchedule(ctx, def(i).Name) })
			if errors.Is(err, queue.ErrNotFound) {
				return fmt.Errorf("remove %d: %w, for the entry it removed", i, err)
			}
			if err == nil && d != 1 {
				err = fmt.Errorf("remove %d changed the version by %d, want 1", i, d)
			}
			return err
		}, stored(0)},
	}
	resend(t, p, scripts, n, "schedule ", kinds)
}
