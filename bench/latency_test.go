package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestLatency enqueues 200 tasks at 1,000 a second into taskware (bare)
// and asynq, each with its worker's default concurrency, on the real
// Redis: every task runs once (Latency checks it), the percentiles are in
// order and the rate is held, roughly.
func TestLatency(t *testing.T) {
	const rate, d = 1000, 200 * time.Millisecond
	client, base := testRedis(t)
	asynqClient := testConnect(t, testAsynqDB(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, name := range []string{"taskware bare", "asynq"} {
		t.Run(name, func(t *testing.T) {
			lib, ok := QueueLibNamed(name)
			if !ok {
				t.Fatalf("no contender %q", name)
			}
			prefix := fmt.Sprintf("%s%d:", base, i)
			q, err := lib.Open(Env{Client: client, AsynqClient: asynqClient, Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Latency(ctx, q, rate, d)
			if cerr := q.Close(); cerr != nil {
				t.Error(cerr)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", res)
			if res.Tasks != 200 || res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max || res.Max > 10*time.Second {
				t.Errorf("Latency = %+v", res)
			}
			if res.Rate < rate/4 || res.Rate > rate*4 {
				t.Errorf("held %.0f tasks/s, asked for %d", res.Rate, rate)
			}
			if k := countKeys(t, client, prefix); k != 0 {
				t.Errorf("%d keys left under %s", k, prefix)
			}
			if k := countKeys(t, asynqClient, ""); k != 0 {
				t.Errorf("%d keys left in the asynq DB %d", k, asynqClient.Options().DB)
			}
		})
	}
}

func TestLatencyRefusesNoTasks(t *testing.T) {
	if _, err := Latency(context.Background(), &fakeQueue{}, 10, time.Millisecond); err == nil {
		t.Error("Latency of no task: no error")
	}
}
