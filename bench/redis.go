package bench

import (
	"context"
	"crypto/rand"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Connect opens a client on the Redis at url and checks that it answers.
func Connect(ctx context.Context, url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// NewPrefix returns a key prefix of a run of its own: "<base>:<random>:".
func NewPrefix(base string) string { return base + ":" + rand.Text()[:10] + ":" }

var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)

// DeletePrefix deletes the keys under prefix, and only those: the Redis
// server is shared, so nothing here flushes it. It returns how many it
// deleted.
func DeletePrefix(ctx context.Context, c *redis.Client, prefix string) (int64, error) {
	var deleted int64
	iter := c.Scan(ctx, 0, globEscaper.Replace(prefix)+"*", 500).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := c.Del(ctx, batch...).Result()
		deleted += n
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			if err := flush(); err != nil {
				return deleted, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return deleted, err
	}
	return deleted, flush()
}
