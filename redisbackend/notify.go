package redisbackend

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/backoff"
)

// hub fans the backend's Pub/Sub channel out to the waiters of many
// notices: many goroutines, each waiting for something, share one
// subscription, opened while anyone waits. Whoever makes something happen
// publishes its notice on the channel.
type hub struct {
	client  redis.UniversalClient
	channel string
	// recheck paces the checks made in case a notice was lost.
	recheck backoff.Policy

	mu      sync.Mutex
	waiters map[string][]chan struct{}
	n       int
	sub     *subscription
}

// wait calls check until it reports done or fails: once the subscription is
// live, then whenever notice is published, and now and then in case a
// notice was lost to a reconnect, backing off to once every few seconds. It
// returns context.Cause(ctx) when ctx ends first.
func (h *hub) wait(ctx context.Context, id string, check func(context.Context) (bool, error)) error {
	w, err := h.join(ctx, id)
	if err != nil {
		return err
	}
	defer h.leave(id, w)
	recheck := backoff.New(h.recheck.Min, h.recheck.Max)
	timer := time.NewTimer(0) // check once the subscription is live
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-w:
		case <-timer.C:
			timer.Reset(recheck.Next())
		}
		done, err := check(ctx)
		if err != nil && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if done || err != nil {
			return err
		}
	}
}

type subscription struct {
	ready  chan struct{} // closed once subscribed, or failed (err)
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

func (h *hub) join(ctx context.Context, id string) (chan struct{}, error) {
	w := make(chan struct{}, 1)
	h.mu.Lock()
	h.waiters[id] = append(h.waiters[id], w)
	h.n++
	if h.sub == nil {
		h.sub = h.subscribe()
	}
	s := h.sub
	h.mu.Unlock()
	select {
	case <-s.ready:
		if s.err == nil {
			return w, nil
		}
		h.leave(id, w)
		return nil, fmt.Errorf("redisbackend: subscribe to %s: %w", h.channel, s.err)
	case <-ctx.Done():
		h.leave(id, w)
		return nil, context.Cause(ctx)
	}
}

func (h *hub) leave(id string, w chan struct{}) {
	h.mu.Lock()
	ws := h.waiters[id]
	for i := range ws {
		if ws[i] == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(h.waiters, id)
	} else {
		h.waiters[id] = ws
	}
	h.n--
	var stop *subscription
	if h.n == 0 {
		stop, h.sub = h.sub, nil
	}
	h.mu.Unlock()
	if stop != nil {
		stop.cancel()
		<-stop.done
	}
}

// subscribe starts the goroutine that holds the subscription until cancel.
func (h *hub) subscribe() *subscription {
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscription{ready: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		ps := h.client.Subscribe(ctx, h.channel)
		defer ps.Close()
		_, s.err = ps.Receive(ctx)
		close(s.ready)
		if s.err != nil {
			return
		}
		ch := ps.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case msg, ok := <-ch:
				if !ok {
					return
				}
				h.notify(logicalNotice(msg.Payload))
			}
		}
	}()
	return s
}

func (h *hub) notify(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.waiters[id] {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}
