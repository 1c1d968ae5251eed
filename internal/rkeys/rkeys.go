// Package rkeys holds what taskware's Redis backends share about keys:
// glob escaping and scanning a keyspace on one server or a whole Cluster.
package rkeys

import (
	"context"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// EscapeGlob escapes s for use in a SCAN MATCH pattern.
func EscapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Scan calls fn with each batch of keys matching pattern, on every master
// when client is a *redis.ClusterClient. fn gets the node the keys live on,
// to read them in one pipeline; calls are serialised.
func Scan(ctx context.Context, client redis.UniversalClient, pattern string, fn func(ctx context.Context, node redis.Cmdable, keys []string) error) error {
	var mu sync.Mutex
	scan := func(ctx context.Context, node redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, pattern, 256).Result()
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
	if cc, ok := client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	}
	return scan(ctx, client)
}
