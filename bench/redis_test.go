package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis returns a client of the real Redis and a key prefix of tb's own,
// whose keys are deleted when tb ends. Without Redis it skips tb, or fails it
// under TASKWARE_REQUIRE_REDIS=1.
func testRedis(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	url := os.Getenv("TASKWARE_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := Connect(ctx, url)
	if err != nil {
		if os.Getenv("TASKWARE_REQUIRE_REDIS") == "1" {
			tb.Fatalf("Redis at %s: %v (TASKWARE_REQUIRE_REDIS=1)", url, err)
		}
		tb.Skipf("no Redis at %s: %v; set TASKWARE_REQUIRE_REDIS=1 to fail instead", url, err)
	}
	prefix := NewPrefix("lockbench-test")
	tb.Cleanup(func() {
		defer c.Close()
		if _, err := DeletePrefix(context.Background(), c, prefix); err != nil {
			tb.Errorf("delete %s*: %v", prefix, err)
		}
	})
	return c, prefix
}

func TestDeletePrefixDeletesOnlyItsOwn(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	mine, sibling := prefix+"a:", prefix+"ab"
	for _, k := range []string{mine + "1", mine + "2", mine + "[x]*", sibling} {
		if err := c.Set(ctx, k, "v", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := DeletePrefix(ctx, c, mine)
	if err != nil || n != 3 {
		t.Fatalf("DeletePrefix = %d, %v; want 3, nil", n, err)
	}
	if got := c.Exists(ctx, sibling).Val(); got != 1 {
		t.Errorf("sibling key %q deleted", sibling)
	}
}
