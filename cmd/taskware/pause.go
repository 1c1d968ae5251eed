package main

import (
	"context"
	"fmt"

	"github.com/taskware/taskware/queue"
)

var (
	pauseCommand = &inspectCommand{name: "pause", doc: doc{
		synopsis: []string{"pause QUEUE..."},
		about:    []string{"take nothing more from these queues: tasks", "taken go on, enqueues go on"},
	}, run: func(ctx context.Context, in *inspection, args []string) error { return setPaused(ctx, in, args, true) }}
	resumeCommand = &inspectCommand{name: "resume", doc: doc{
		synopsis: []string{"resume QUEUE..."},
		about:    []string{"take from them again"},
	}, run: func(ctx context.Context, in *inspection, args []string) error { return setPaused(ctx, in, args, false) }}
)

// setPaused pauses or resumes the queues named: workers take nothing from
// a paused queue until it is resumed.
func setPaused(ctx context.Context, in *inspection, names []string, pause bool) error {
	verb := "resume"
	if pause {
		verb = "pause"
	}
	if len(names) == 0 {
		return usageError{fmt.Errorf("%s: name the queues", verb)}
	}
	for _, name := range names {
		if err := queue.ValidateName(name); err != nil {
			return usageError{err}
		}
	}
	for _, name := range names {
		var err error
		if pause {
			err = in.q.Pause(ctx, name)
		} else {
			err = in.q.Resume(ctx, name)
		}
		if err != nil {
			return err
		}
	}
	if in.o.JSON {
		return in.json(map[string]any{verb + "d": names})
	}
	for _, name := range names {
		fmt.Fprintf(in.out, "queue %s %sd\n", visible(name), verb)
	}
	return nil
}
