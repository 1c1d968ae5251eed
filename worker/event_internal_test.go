package worker

import (
	"context"
	"testing"
	"time"
)

// A subscriber that falls more than its buffer behind loses the next
// events, counted, and gets the rest once it catches up.
func TestSubscriberDropsPastItsBuffer(t *testing.T) {
	release := make(chan struct{})
	got := make(chan string, 10)
	var es events
	es.subscribe(func(e Event) {
		if e.ID == "0" {
			<-release
		}
		got <- e.ID
	}, nil)
	es.subs[0].max = 2
	for _, id := range []string{"0", "1", "2", "3", "4"} {
		es.publish(&Event{ID: id})
		if id == "0" { // the subscriber holds 0: its buffer is empty again
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				es.subs[0].mu.Lock()
				n := len(es.subs[0].queue)
				es.subs[0].mu.Unlock()
				if n == 0 {
					break
				}
				if time.Now().After(end) {
					t.Fatal("the subscriber never took its first event")
				}
			}
		}
	}
	if d := es.dropped(); d != 2 {
		t.Fatalf("dropped %d, want 2 (3 and 4, past a buffer of 2)", d)
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := es.flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	close(got)
	var ids []string
	for id := range got {
		ids = append(ids, id)
	}
	if len(ids) != 3 || ids[0] != "0" || ids[1] != "1" || ids[2] != "2" {
		t.Fatalf("the subscriber saw %v, want [0 1 2]", ids)
	}
}
