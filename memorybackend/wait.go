package memorybackend

import (
	"context"
	"sync"
)

// waiters wakes the goroutines waiting for keys. Its owner guards it with
// its own mutex.
type waiters[K comparable] struct {
	m map[K]*waiter
}

// waiter is closed when its key is woken; n counts the goroutines on it, so
// that a key whose waiters all give up leaves nothing behind.
type waiter struct {
	ch chan struct{}
	n  int
}

// wake wakes key's waiters. The owner's mutex is held.
func (ws *waiters[K]) wake(key K) {
	if w, ok := ws.m[key]; ok {
		close(w.ch)
		delete(ws.m, key)
	}
}

// wait calls check with mu held until it reports done, and between calls
// waits for key to be woken. It returns context.Cause(ctx) if ctx ends
// first.
func wait[K comparable, T any](ctx context.Context, mu *sync.Mutex, ws *waiters[K], key K, check func() (T, bool, error)) (T, error) {
	for {
		mu.Lock()
		v, done, err := check()
		if done || err != nil {
			mu.Unlock()
			return v, err
		}
		if ws.m == nil {
			ws.m = make(map[K]*waiter)
		}
		w, ok := ws.m[key]
		if !ok {
			w = &waiter{ch: make(chan struct{})}
			ws.m[key] = w
		}
		w.n++
		mu.Unlock()
		select {
		case <-w.ch:
		case <-ctx.Done():
			mu.Lock()
			if w.n--; w.n == 0 && ws.m[key] == w {
				delete(ws.m, key)
			}
			mu.Unlock()
			var zero T
			return zero, context.Cause(ctx)
		}
	}
}
