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
	kinds := []struct {
		name, wrong string
		// op runs call i, its reply to be dropped, and returns an error if
		// it answers wrongly or does more than once.
		op func(i int) error
	}{
		{"put", "version changed twice", func(i int) error {
			d, err := bumps(func() error { return faulty.PutSchedule(ctx, def(i)) })
			if err == nil && d != 1 {
				err = fmt.Errorf("put %d changed the version by %d, want 1", i, d)
			}
			return err
		}},
		{"pause", "version changed twice", func(i int) error {
			d, err := bumps(func() error { return faulty.PauseSchedule(ctx, def(i).Name, true, at) })
			if err == nil && d != 1 {
				err = fmt.Errorf("pause %d changed the version by %d, want 1", i, d)
			}
			return err
		}},
		{"resume", "Since moved", func(i int) error {
			if err := faulty.PauseSchedule(ctx, def(i).Name, false, at.Add(time.Duration(i)*time.Millisecond)); err != nil {
				return err
			}
			return nil
		}},
		{"remove", "ErrNotFound", func(i int) error {
			d, err := bumps(func() error { return faulty.RemoveSchedule(ctx, def(i).Name) })
			if errors.Is(err, queue.ErrNotFound) {
				return fmt.Errorf("remove %d: %w, for the entry it removed", i, err)
			}
			if err == nil && d != 1 {
				err = fmt.Errorf("remove %d changed the version by %d, want 1", i, d)
			}
			return err
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			before := p.Dropped()
			wrong := 0
			for i := range n {
				p.DropReplies(1, scripts)
				if err := k.op(i); err != nil {
					wrong++
					if wrong <= 3 {
						t.Errorf("call %d: %v", i, err)
					}
				}
			}
			dropped := p.Dropped() - before
			defs, _, err := clean.ScheduleDefs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch k.name {
			case "put", "pause":
				if len(defs) != n {
					wrong++
					t.Errorf("%d entries stored, want %d", len(defs), n)
				}
			case "resume":
				for _, d := range defs {
					var i int
					fmt.Sscanf(d.Name, "s%d", &i)
					if d.Paused || !d.Since.Equal(at.Add(time.Duration(i)*time.Millisecond)) {
						wrong++
						t.Errorf("%s after its resume: paused %v, Since %v", d.Name, d.Paused, d.Since)
						break
					}
				}
			case "remove":
				if len(defs) != 0 {
					wrong++
					t.Errorf("%d entries left after the removes", len(defs))
				}
			}
			figure(t, "resent schedule "+k.name, "%d false %s in %d calls, %d replies dropped", wrong, k.wrong, n, dropped)
			if dropped < n {
				t.Fatalf("only %d replies dropped: the faults did not happen", dropped)
			}
			if wrong > 0 {
				t.Fatalf("%d calls answered wrongly", wrong)
			}
		})
	}
}
