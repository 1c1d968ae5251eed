package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestContenders checks that each library really locks: a held key cannot be
// taken again until it is released, and the driver runs it on many
// goroutines without error.
func TestContenders(t *testing.T) {
	client, base := testRedis(t)
	ctx := context.Background()
	for _, lib := range Libs {
		t.Run(lib.Name, func(t *testing.T) {
			prefix := base + lib.Name + ":"
			c, err := lib.Open(client, prefix, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := c.Close(); err != nil {
					t.Error(err)
				}
			}()
			key := prefix + "k"

			first, err := c.Acquire(ctx, key)
			if err != nil {
				t.Fatalf("first acquire: %v", err)
			}
			if countKeys(t, client, prefix) == 0 {
				t.Fatalf("a lock is held, but no key is under %s", prefix)
			}
			if _, err := c.Acquire(ctx, key); !errors.Is(err, ErrHeld) {
				t.Fatalf("second acquire of a held key: err = %v, want ErrHeld", err)
			}
			if err := c.Release(ctx, first); err != nil {
				t.Fatalf("release: %v", err)
			}
			// A second release by the owner: taskware answers as if it ran once
			// (go-redis resends a release whose reply it lost); the peers
			// answer that the lock is not held.
			err = c.Release(ctx, first)
			if idempotent := strings.HasPrefix(lib.Name, "taskware"); idempotent != (err == nil) {
				t.Errorf("second release of the same lease: %v", err)
			}
			again, err := c.Acquire(ctx, key)
			if err != nil {
				t.Fatalf("acquire after release: %v", err)
			}
			if err := c.Release(ctx, again); err != nil {
				t.Fatalf("release: %v", err)
			}

			keys := Keys(prefix, 8)
			res, err := Measure(ctx, c, keys, 50*time.Millisecond)
			if err != nil || res.Pairs == 0 || res.Mallocs == 0 {
				t.Fatalf("Measure = %+v, %v; want pairs and allocations", res, err)
			}
			for _, k := range keys { // all released
				l, err := c.Acquire(ctx, k)
				if err != nil {
					t.Fatalf("acquire %s after Measure: %v", k, err)
				}
				c.Release(ctx, l)
			}
		})
	}
}

func countKeys(t *testing.T, c *redis.Client, prefix string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	iter := c.Scan(ctx, 0, globEscaper.Replace(prefix)+"*", 500).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
