package redisbackend

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// scanCount is the COUNT of each SCAN: large, so that a keyspace of
// 100k task states is a few dozen round trips, not hundreds; Redis reads
// that many slots a call, well under a millisecond.
const scanCount = 4096

// scan calls fn with each batch of keys matching pattern, on every master
// when the client is a *redis.ClusterClient. fn gets the node the keys live
// on, to read them in one pipeline; calls are serialised.
func (b *Backend) scan(ctx context.Context, pattern string, fn func(ctx context.Context, node redis.Cmdable, keys []string) error) error {
	var mu sync.Mutex
	scan := func(ctx context.Context, node redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, pattern, scanCount).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				mu.Lock()
				err = fn(ctx, node, keys)
				mu.Unlock()
				if err != nil {
					return err
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	if cc, ok := b.client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	}
	return scan(ctx, b.client)
}

// valueTTL is a string key's value and its remaining TTL.
type valueTTL struct {
	val string
	ok  bool // the key exists
	ttl time.Duration
}

// readWithTTL reads the string keys and their TTLs in one pipeline on node.
// A key that does not exist (it expired after SCAN) comes back not ok.
func readWithTTL(ctx context.Context, node redis.Cmdable, keys []string) ([]valueTTL, error) {
	gets := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			gets[i] = p.Get(ctx, k)
			ttls[i] = p.PTTL(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]valueTTL, len(keys))
	for i := range keys {
		if v, err := gets[i].Result(); err == nil {
			out[i] = valueTTL{val: v, ok: true, ttl: ttls[i].Val()}
		}
	}
	return out, nil
}
