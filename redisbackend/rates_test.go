package redisbackend_test

import (
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/taskwaretest"
)

// A minute's counts outlive a day (queue.RatesKept), so that a day's
// charts are whole, and do not stay much longer.
func TestRatesKeptADay(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		rqEnqueue(t, q, rqMsg("rk", "a"), time.Time{})
		rqFinish(t, q, rqTake(t, q, "rk", 1)[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		var ttl time.Duration
		for _, k := range rqKeys(t, b) {
			if strings.HasPrefix(k, "queue:{rk}:rate:") {
				ttl = b.Client.PTTL(t.Context(), b.Prefix()+k).Val()
			}
		}
		if ttl <= queue.RatesKept || ttl > queue.RatesKept+2*time.Hour {
			t.Fatalf("a minute's counts live %v; want a little over %v", ttl, queue.RatesKept)
		}
	})
}
