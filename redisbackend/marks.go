package redisbackend

import (
	"context"
	"sync"
)

// marks gathers the running marks of Queue.Started and sends them in
// group commits: the marks made while a send is in flight go together in
// the next, as one start.lua per queue. Under load that is one script for
// many tasks, where each script call costs Redis a fixed overhead beside
// its commands (issue 21's ablation: see BENCHMARKS.md); a lone start
// goes at once, alone, as before.
type marks struct {
	mu      sync.Mutex
	pending []mark
	sending bool // a goroutine sends pending until none is left
}

// mark is one task's running mark. The script's arguments point into it.
type mark struct {
	prefix      string // the queue's states' key prefix: marks of one prefix share a hash tag
	key, worker string
	at          int64
	sent        bool // in an earlier script of startOps
}

// add sends m, later if a send is in flight; it never waits.
func (ms *marks) add(b *Backend, m mark) {
	ms.mu.Lock()
	ms.pending = append(ms.pending, m)
	if ms.sending {
		ms.mu.Unlock()
		return
	}
	ms.sending = true
	ms.mu.Unlock()
	go ms.send(b)
}

// send sends the pending marks, batch after batch, until none is left.
// Nobody reads the replies: a mark that is lost leaves its task "queued"
// until it ends.
func (ms *marks) send(b *Backend) {
	for {
		ms.mu.Lock()
		all := ms.pending
		ms.pending = nil
		if len(all) == 0 {
			ms.sending = false
			ms.mu.Unlock()
			return
		}
		ms.mu.Unlock()
		_ = b.batch.do(context.Background(), startOps(all))
	}
}

// startOps makes a start.lua of the marks of each queue in all, in the
// order of their first mark.
func startOps(all []mark) []op {
	var ops []op
	done := 0
	for i := range all {
		if all[i].sent {
			continue
		}
		prefix := all[i].prefix
		n := 0
		for j := i; j < len(all); j++ {
			if all[j].prefix == prefix {
				n++
			}
		}
		args := make([]any, 3, 3+3*n)
		args[0], args[1], args[2] = argEvalSHA, startScript.sha, n
		for j := i; j < len(all); j++ {
			if all[j].prefix == prefix {
				args = append(args, &all[j].key)
			}
		}
		for j := i; j < len(all); j++ {
			if all[j].prefix == prefix {
				args = append(args, &all[j].at, &all[j].worker)
				all[j].sent = true
				done++
			}
		}
		ops = append(ops, scriptOp(startScript, args))
		if done == len(all) {
			break
		}
	}
	return ops
}
