package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

var locksCommands = &family{name: "locks", subs: []*inspectCommand{
	{name: "locks list", run: listLocks, doc: doc{
		synopsis: []string{"locks list"},
		about:    []string{"the locks held, by whom, since when"},
	}},
	{name: "locks break", run: breakLock, doc: doc{
		synopsis: []string{"locks break KEY"},
		about:    []string{"remove a lock whoever holds it"},
	}},
}}

func listLocks(ctx context.Context, in *inspection, args []string) error {
	if err := noArgs("locks list", args); err != nil {
		return err
	}
	held, err := in.b.Locker().Held(ctx)
	if err != nil {
		return err
	}
	in.empty = len(held) == 0
	if in.o.JSON {
		return in.json(map[string]any{"locks": rows.LocksOf(held)})
	}
	tw := in.table("KEY", "HOLDER", "FENCE", "HELD FOR", "EXPIRES")
	for _, l := range held {
		in.row(tw, l.Key, l.Holder, l.Fence, in.age(l.Since), in.until(in.now.Add(l.Remaining)))
	}
	return tw.Flush()
}

func breakLock(ctx context.Context, in *inspection, args []string) error {
	if len(args) != 1 {
		return usageError{errors.New("locks break: give one lock key")}
	}
	l := in.b.Locker()
	info, held, err := l.Lookup(ctx, args[0])
	if err != nil {
		return err
	}
	if !held {
		in.empty = true
		return fmt.Errorf("locks break: lock %s is not held: %w", quote(args[0]), queue.ErrNotFound)
	}
	if err := l.Break(ctx, args[0]); err != nil {
		return err
	}
	if in.o.JSON {
		return in.json(map[string]any{"broken": rows.LockOf(info)})
	}
	fmt.Fprintf(in.out, "broke lock %s, held by %s for %s (fence %d)\n", quote(info.Key), visible(info.Holder), in.age(info.Since), info.Fence)
	return nil
}
