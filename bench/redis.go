package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisURL is the Redis the commands and tests use: $TASKWARE_REDIS_URL, or
// the local default.
func RedisURL() string {
	if url := os.Getenv("TASKWARE_REDIS_URL"); url != "" {
		return url
	}
	return "redis://127.0.0.1:6379/0"
}

// Connect opens a client on the Redis at url, with the options that url
// gives changed by each of adjust, and checks that it answers.
func Connect(ctx context.Context, url string, adjust ...func(*redis.Options)) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	for _, a := range adjust {
		a(opt)
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
	return deletePrefix(ctx, c, prefix, func(ctx context.Context, keys []string) (int64, error) {
		return c.Del(ctx, keys...).Result()
	})
}

// DeletePrefixEverywhere deletes the keys under prefix, and only those,
// from c: from each master of a Cluster, or as DeletePrefix does from one
// Redis. It returns how many it deleted.
func DeletePrefixEverywhere(ctx context.Context, c redis.UniversalClient, prefix string) (int64, error) {
	switch c := c.(type) {
	case *redis.Client:
		return DeletePrefix(ctx, c, prefix)
	case *redis.ClusterClient:
		var deleted atomic.Int64
		err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			n, err := deletePrefix(ctx, node, prefix, func(ctx context.Context, keys []string) (int64, error) {
				return delEach(ctx, node, keys)
			})
			deleted.Add(n)
			return err
		})
		return deleted.Load(), err
	}
	return 0, fmt.Errorf("bench: cannot delete the keys of a %T", c)
}

// delEach deletes keys one command each, in one pipeline: a Cluster node
// refuses a DEL of keys in several slots.
func delEach(ctx context.Context, c *redis.Client, keys []string) (int64, error) {
	cmds := make([]*redis.IntCmd, len(keys))
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Del(ctx, k)
		}
		return nil
	})
	var n int64
	for _, cmd := range cmds {
		n += cmd.Val()
	}
	return n, err
}

// deletePrefix scans c for the keys under prefix, and deletes them with
// del, 500 at a time.
func deletePrefix(ctx context.Context, c *redis.Client, prefix string, del func(context.Context, []string) (int64, error)) (int64, error) {
	var deleted int64
	iter := c.Scan(ctx, 0, globEscaper.Replace(prefix)+"*", 500).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := del(ctx, batch)
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

// Trips counts the round trips of the clients it is set on (see Count), as
// the writes to their connections: a command is one write, a pipeline is
// one, and go-redis's AutoPipeliner in full-duplex mode writes the commands
// of concurrent callers in one. (Redis may read several writes at once: its
// own count, INFO's total_reads_processed, can be lower.)
//
// Go-redis's hooks cannot count those batches: on a full-duplex
// AutoPipeliner each command runs the client's ProcessHook on its own (on a
// goroutine started for it), and a pipeline runs ProcessPipelineHook once,
// however the writer then merges them.
type Trips struct{ n atomic.Int64 }

// Load returns the round trips since the last Reset.
func (t *Trips) Load() int64 { return t.n.Load() }

// Reset starts the count again from 0.
func (t *Trips) Reset() { t.n.Store(0) }

// Count makes the client of opt count its round trips in t: pass it to
// Connect. Health checks still see the TCP connection.
func (t *Trips) Count(opt *redis.Options) {
	dial := redis.NewDialer(opt)
	opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		sc, ok := c.(syscallConn)
		if !ok { // TLS, say
			c.Close()
			return nil, fmt.Errorf("bench: cannot count the round trips of a %T", c)
		}
		return &countedConn{sc, &t.n}, nil
	}
}

type syscallConn interface {
	net.Conn
	syscall.Conn
}

// countedConn counts its writes. It is a syscall.Conn, as go-redis wants for
// its health checks.
type countedConn struct {
	syscallConn
	n *atomic.Int64
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.syscallConn.Write(p)
}

// infoFields returns the fields of one section of INFO, by name.
func infoFields(ctx context.Context, c *redis.Client, section string) (map[string]string, error) {
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	return parseInfo(s), nil
}

// parseInfo returns the fields of INFO's text s, by name: its "name:value"
// lines, without the "# Section" headers.
func parseInfo(s string) map[string]string {
	fields := make(map[string]string)
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			fields[k] = v
		}
	}
	return fields
}

// RedisCPU returns the CPU time, system and user, that the Redis server of
// c has used since it started (INFO cpu): the whole server's, whoever the
// work was for.
func RedisCPU(ctx context.Context, c *redis.Client) (time.Duration, error) {
	f, err := infoFields(ctx, c, "cpu")
	if err != nil {
		return 0, err
	}
	return cpuOf(f)
}

// cpuOf sums INFO cpu's used_cpu_sys and used_cpu_user, in seconds, from
// fields.
func cpuOf(f map[string]string) (time.Duration, error) {
	var sum time.Duration
	for _, k := range []string{"used_cpu_sys", "used_cpu_user"} {
		secs, err := strconv.ParseFloat(f[k], 64)
		if err != nil {
			return 0, fmt.Errorf("bench: INFO cpu %s: %w", k, err)
		}
		sum += time.Duration(secs * float64(time.Second))
	}
	return sum, nil
}

// UsedMemory returns the bytes that the Redis server of c holds, over all
// its databases (INFO memory's used_memory).
func UsedMemory(ctx context.Context, c *redis.Client) (int64, error) {
	f, err := infoFields(ctx, c, "memory")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(f["used_memory"], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bench: INFO memory used_memory: %w", err)
	}
	return n, nil
}

// Clients are what a comparison with asynq runs on: taskware's client, with
// a key prefix of the run's own, and asynq's, on a logical DB of its own
// (asynq takes no prefix).
type Clients struct {
	Taskware, Asynq *redis.Client
	Prefix          string
}

// OpenClients connects both clients to the Redis at url, asynq's on DB
// asynqDB, each adjusted by adjust (a round-trip counter, say), under a
// prefix named after the command.
func OpenClients(ctx context.Context, url string, asynqDB int, command string, adjust ...func(*redis.Options)) (*Clients, error) {
	tw, err := Connect(ctx, url, adjust...)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", url, err)
	}
	aq, err := Connect(ctx, url, append(adjust, func(o *redis.Options) { o.DB = asynqDB })...)
	if err != nil {
		tw.Close()
		return nil, fmt.Errorf("redis %s, DB %d: %w", url, asynqDB, err)
	}
	return &Clients{Taskware: tw, Asynq: aq, Prefix: NewPrefix(command)}, nil
}

// Close deletes the keys under Prefix and closes both clients.
func (c *Clients) Close() error {
	_, err := DeletePrefix(context.Background(), c.Taskware, c.Prefix)
	return errors.Join(err, c.Taskware.Close(), c.Asynq.Close())
}
