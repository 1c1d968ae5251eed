package lock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/internal/rkeys"
)

// DefaultPrefix starts every key taskware writes, unless told otherwise.
const DefaultPrefix = "taskware:"

// fenceRetention is how long a key's fence counter outlives its last lease.
// Fences also never fall below the Redis server's clock in microseconds, so
// they keep growing after the counter expires; the counter only has to cover
// leases taken within the same microsecond or across a small clock step back.
const fenceRetention = 24 * time.Hour

// The value of a lock key is "token|fence|sinceµs|holder".
var (
	acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return {v, redis.call('PTTL', KEYS[1])} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local f = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
if f < now then f = now end
local fs = string.format('%d', f)
redis.call('SET', KEYS[2], fs, 'PX', ARGV[4])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fs .. '|' .. string.format('%d', now) .. '|' .. ARGV[3], 'PX', ARGV[2])
return f`)
	releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then return redis.call('DEL', KEYS[1]) end
return 0`)
	refreshScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)
)

var fenceRetentionArg any = fenceRetention.Milliseconds()

// Redis is a Locker on Redis. Create it with NewRedis.
//
// Each lock is one key, "<prefix>lock:{<key>}", next to its fence counter
// "<prefix>lock:{<key>}:fence"; the hash tag puts both in one Cluster slot.
// TryAcquire, Release and Refresh are one round trip each: a script, sent
// by its SHA once Redis has it cached.
type Redis struct {
	client redis.UniversalClient
	prefix string
	holder any // boxed once: it is a script argument on every acquire
}

// RedisOption configures a Redis locker.
type RedisOption interface{ applyRedis(*Redis) }

type redisOptionFunc func(*Redis)

func (f redisOptionFunc) applyRedis(r *Redis) { f(r) }

// WithPrefix sets the key prefix, DefaultPrefix by default. It must not
// contain '{' or '}', which would break the keys' Cluster hash tags.
func WithPrefix(p string) RedisOption { return redisOptionFunc(func(r *Redis) { r.prefix = p }) }

// WithHolder sets the holder recorded with each lock, DefaultHolder() by
// default.
func WithHolder(h string) RedisOption { return redisOptionFunc(func(r *Redis) { r.holder = h }) }

// NewRedis returns a Locker on client. A client from client.AutoPipeline()
// lets concurrent acquires and releases share round trips. NewRedis panics
// with an error matching task.ErrInvalidConfig if client is nil or the
// prefix contains a brace.
func NewRedis(client redis.UniversalClient, opts ...RedisOption) *Redis {
	r := &Redis{client: client, prefix: DefaultPrefix, holder: DefaultHolder()}
	for _, o := range opts {
		o.applyRedis(r)
	}
	if client == nil {
		panic(configError("NewRedis: nil client"))
	}
	if strings.ContainsAny(r.prefix, "{}") {
		panic(configError("NewRedis: prefix %q contains a brace", r.prefix))
	}
	if h, _ := r.holder.(string); h == "" {
		panic(configError("NewRedis: empty holder"))
	}
	return r
}

// keys returns the lock key and its fence key, from one allocation.
func (r *Redis) keys(key string) []string {
	fk := r.prefix + "lock:{" + key + "}:fence"
	return []string{fk[:len(fk)-len(":fence")], fk}
}

func (r *Redis) lockKey(key string) string { return r.prefix + "lock:{" + key + "}" }

func ttlArg(ttl time.Duration) int64 { return max(ttl.Milliseconds(), 1) }

// TryAcquire implements Locker.
func (r *Redis) TryAcquire(ctx context.Context, key string, ttl time.Duration) (*Lease, error) {
	if err := checkArgs(key, ttl); err != nil {
		return nil, err
	}
	token := randid.New()
	start := time.Now() // the lease runs from before the request, to be safe
	res, err := acquireScript.Run(ctx, r.client, r.keys(key), token, ttlArg(ttl), r.holder, fenceRetentionArg).Result()
	if err != nil {
		return nil, fmt.Errorf("lock %q: acquire: %w", key, err)
	}
	switch v := res.(type) {
	case int64:
		return &Lease{Key: key, Token: token, Fence: v, TTL: ttl, AcquiredAt: start}, nil
	case []any:
		if len(v) == 2 {
			val, _ := v[0].(string)
			pttl, _ := v[1].(int64)
			info := parseValue(key, val, pttl)
			return nil, &LockedError{Key: key, Holder: info.Holder, Since: info.Since, Remaining: info.Remaining}
		}
	}
	return nil, fmt.Errorf("lock %q: acquire: unexpected reply %v", key, res)
}

// Release implements Locker.
func (r *Redis) Release(ctx context.Context, lease *Lease) error {
	n, err := releaseScript.Run(ctx, r.client, []string{r.lockKey(lease.Key)}, lease.Token).Int64()
	if err != nil {
		return fmt.Errorf("lock %q: release: %w", lease.Key, err)
	}
	if n == 0 {
		return notHeld(lease)
	}
	return nil
}

// Refresh implements Locker.
func (r *Redis) Refresh(ctx context.Context, lease *Lease, ttl time.Duration) error {
	if err := checkArgs(lease.Key, ttl); err != nil {
		return err
	}
	n, err := refreshScript.Run(ctx, r.client, []string{r.lockKey(lease.Key)}, lease.Token, ttlArg(ttl)).Int64()
	if err != nil {
		return fmt.Errorf("lock %q: refresh: %w", lease.Key, err)
	}
	if n == 0 {
		return notHeld(lease)
	}
	lease.TTL = ttl
	return nil
}

// Held implements Locker. It scans the lock keyspace, on every master of a
// *redis.ClusterClient, and reads each batch of locks with their TTLs in one
// pipeline. The list is sorted by key.
func (r *Redis) Held(ctx context.Context) ([]Info, error) {
	var out []Info
	start := len(r.prefix) + len("lock:{")
	err := rkeys.Scan(ctx, r.client, rkeys.EscapeGlob(r.prefix)+"lock:{*}", func(ctx context.Context, node redis.Cmdable, keys []string) error {
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
			return err
		}
		for i, k := range keys {
			if val, err := gets[i].Result(); err == nil { // else it expired after SCAN
				out = append(out, parseValue(k[start:len(k)-1], val, ttls[i].Val().Milliseconds()))
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("lock: list held: %w", err)
	}
	sortInfos(out)
	return out, err
}

// parseValue reads a lock value "token|fence|sinceµs|holder".
func parseValue(key, val string, pttlMs int64) Info {
	info := Info{Key: key, Remaining: time.Duration(pttlMs) * time.Millisecond}
	parts := strings.SplitN(val, "|", 4)
	if len(parts) == 4 {
		info.Fence, _ = strconv.ParseInt(parts[1], 10, 64)
		if us, err := strconv.ParseInt(parts[2], 10, 64); err == nil {
			info.Since = time.UnixMicro(us)
		}
		info.Holder = parts[3]
	}
	return info
}

// Break removes key's lock whoever holds it, for operators and tests. The
// holder learns of it at its next renewal, as ErrLeaseLost. The fence
// counter stays, so fences keep growing.
func (r *Redis) Break(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.lockKey(key)).Err(); err != nil {
		return fmt.Errorf("lock %q: break: %w", key, err)
	}
	return nil
}
