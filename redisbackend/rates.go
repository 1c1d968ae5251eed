package redisbackend

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

// Rates implements queue.Admin, in one round trip: a pipeline of the
// minutes' hashes (keys.counts), which the scripts that end, requeue or
// cancel tasks count into (lua/lib/count.lua), each kept 25 hours from
// its first count of an outcome (within its minute, so at least 24 hours
// and 59 minutes after its last): a day of minutes (queue.RatesKept) is
// 1 440 HGETALLs in one pipeline.
// A partitioned queue counts in each partition: the pipeline reads them
// all, and sums each minute's.
func (q *Queue) Rates(ctx context.Context, name string, since time.Time) ([]queue.OutcomeCounts, error) {
	parts, err := q.partitionNames(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("worker: rates of %s: %w", name, err)
	}
	now := time.Now()
	first, last := since.Unix()/60, now.Unix()/60
	if keep := int64(queue.RatesKept / time.Minute); first < last-keep+1 {
		first = last - keep + 1 // older minutes are gone
	}
	minutes := int(max(last-first+1, 0))
	cmds := make([]*redis.MapStringStringCmd, 0, minutes*len(parts))
	_, err = q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, physical := range parts {
			for m := first; m <= last; m++ {
				cmds = append(cmds, p.HGetAll(ctx, q.b.keys.counts(physical, m)))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("worker: rates of %s: %w", name, unavailable(ctx, err))
	}
	out := make([]queue.OutcomeCounts, minutes)
	for i := range out {
		out[i] = outcomeCounts(time.Unix((first+int64(i))*60, 0), cmds[i].Val())
	}
	for j := minutes; j < len(cmds); j++ {
		addCounts(&out[j%minutes], outcomeCounts(out[j%minutes].Minute, cmds[j].Val()))
	}
	return out, nil
}

// addCounts adds the counts of b to a.
func addCounts(a *queue.OutcomeCounts, b queue.OutcomeCounts) {
	a.Succeeded += b.Succeeded
	a.Failed += b.Failed
	a.Dead += b.Dead
	a.Canceled += b.Canceled
	a.Retried += b.Retried
	a.Rescheduled += b.Rescheduled
	for kind, n := range b.Skipped {
		if a.Skipped == nil {
			a.Skipped = make(map[string]int64)
		}
		a.Skipped[kind] += n
	}
}

// outcomeCounts reads a minute's hash: a field per status, and one per
// skip's kind, "skipped:<kind>".
func outcomeCounts(minute time.Time, h map[string]string) queue.OutcomeCounts {
	c := queue.OutcomeCounts{Minute: minute}
	for field, v := range h {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch field {
		case "succeeded":
			c.Succeeded = n
		case "failed":
			c.Failed = n
		case "dead":
			c.Dead = n
		case "canceled":
			c.Canceled = n
		case "retried":
			c.Retried = n
		case "rescheduled":
			c.Rescheduled = n
		default:
			if kind, ok := strings.CutPrefix(field, "skipped:"); ok {
				if c.Skipped == nil {
					c.Skipped = make(map[string]int64)
				}
				c.Skipped[kind] = n
			}
		}
	}
	return c
}
