// Package notify wakes waiters across processes: many goroutines, each
// waiting for something under an ID, share one Redis Pub/Sub subscription,
// opened while anyone waits.
package notify

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Hub fans one Pub/Sub channel out to the waiters of many IDs. Whoever
// makes something happen publishes its ID on the channel.
type Hub struct {
	client  redis.UniversalClient
	channel string

	mu      sync.Mutex
	waiters map[string][]chan struct{}
	n       int
	sub     *subscription
}

// New returns a Hub for channel on client.
func New(client redis.UniversalClient, channel string) *Hub {
	return &Hub{client: client, channel: channel, waiters: make(map[string][]chan struct{})}
}

// Channel is the channel to publish IDs on.
func (h *Hub) Channel() string { return h.channel }

// Wait calls check until it reports done or fails: once the subscription is
// live, then whenever id is published, and now and then in case a notice was
// lost to a reconnect, backing off to once every few seconds. It returns
// context.Cause(ctx) when ctx ends first.
func (h *Hub) Wait(ctx context.Context, id string, check func(context.Context) (bool, error)) error {
	w, err := h.join(ctx, id)
	if err != nil {
		return err
	}
	defer h.leave(id, w)
	recheck := 250 * time.Millisecond
	timer := time.NewTimer(0) // check once the subscription is live
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-w:
		case <-timer.C:
			timer.Reset(recheck)
			recheck = min(2*recheck, 5*time.Second)
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

func (h *Hub) join(ctx context.Context, id string) (chan struct{}, error) {
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
		return nil, fmt.Errorf("notify: subscribe %s: %w", h.channel, s.err)
	case <-ctx.Done():
		h.leave(id, w)
		return nil, context.Cause(ctx)
	}
}

func (h *Hub) leave(id string, w chan struct{}) {
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
func (h *Hub) subscribe() *subscription {
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
				h.notify(msg.Payload)
			}
		}
	}()
	return s
}

func (h *Hub) notify(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.waiters[id] {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}
