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
	"github.com/taskware/taskware/internal/rbatch"
	"github.com/taskware/taskware/internal/rkeys"
	"github.com/taskware/taskware/internal/rscript"
)

// DefaultPrefix starts every key taskware writes, unless told otherwise.
const DefaultPrefix = "taskware:"

// A lock is one key, "<prefix>lock:{<key>}". While held, its value is
// "token|fence|sinceµs|holder". A release does not delete it but leaves
// "|fence" for the rest of the lease's TTL, so that the next lease's fence
// is larger even if the server's clock stepped back meanwhile; no other key
// is needed, and nothing outlives the lease's TTL.
//
// Fences are the server's clock in microseconds (TIME), bumped above the
// last fence when that is not larger: they grow with every lease on a key,
// across releases and expiries alike. Lua prints numbers this large as
// 1.7e+15, so they are formatted with %d.
var (
	acquireScript = rscript.New(`
local v = redis.call('GET', KEYS[1])
local last = 0
if v then
  if string.sub(v, 1, 1) ~= '|' then return {v, redis.call('PTTL', KEYS[1])} end
  last = tonumber(string.sub(v, 2)) or 0
end
local t = redis.call('TIME')
local f = tonumber(t[1]) * 1000000 + tonumber(t[2])
if f <= last then f = last + 1 end
local fs = string.format('%d', f)
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fs .. '|' .. ARGV[4] .. '|' .. ARGV[3], 'PX', ARGV[2])
return f`)
	releaseScript = rscript.New(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
  redis.call('SET', KEYS[1], '|' .. string.match(v, '^[^|]*|(%d+)'), 'KEEPTTL')
  return 1
end
return 0`)
	refreshScript = rscript.New(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)
)

// Command arguments that never change, boxed once so that no call pays for
// them.
var (
	argEvalSHA any = "evalsha"
	argOneKey  any = "1"
)

// Redis is a Locker on Redis. Create it with NewRedis.
//
// Each lock is one key, "<prefix>lock:{<key>}". TryAcquire, Release and
// Refresh are one round trip each: a script, sent by its SHA once Redis has
// it cached. A lease taken by TryAcquire carries
// its keys and command arguments, so that its release and refreshes do not
// allocate them again.
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

// redisLease is a Lease together with what Redis needs to release and
// refresh it: the key and the token share one string, and args, the
// command's arguments, point into the lease. Operations on one lease are
// not concurrent (a Hold serialises renewal and release), so they reuse args.
type redisLease struct {
	Lease
	locker         *Redis
	lockKey        string
	ttlMs, sinceUs int64
	args           [8]any
}

func (r *Redis) lockKey(key string) string { return r.prefix + "lock:{" + key + "}" }

func ttlArg(ttl time.Duration) int64 { return max(ttl.Milliseconds(), 1) }

// TryAcquire implements Locker.
func (r *Redis) TryAcquire(ctx context.Context, key string, ttl time.Duration) (*Lease, error) {
	if err := checkArgs(key, ttl); err != nil {
		return nil, err
	}
	var token [randid.Len]byte
	randid.Fill(&token)
	s := r.prefix + "lock:{" + key + "}" + string(token[:])
	keyEnd := len(s) - randid.Len
	now := time.Now() // the lease runs from before the request, to be safe
	rl := &redisLease{locker: r, lockKey: s[:keyEnd], ttlMs: ttlArg(ttl), sinceUs: now.UnixMicro()}
	rl.Lease = Lease{Key: key, Token: s[keyEnd:], TTL: ttl, AcquiredAt: now, impl: rl}
	rl.args = [8]any{argEvalSHA, acquireScript.SHA, argOneKey, &rl.lockKey, &rl.Token, &rl.ttlMs, r.holder, &rl.sinceUs}
	res, err := r.run(ctx, acquireScript, rl.args[:])
	if err != nil {
		return nil, fmt.Errorf("lock %q: acquire: %w", key, err)
	}
	switch v := res.(type) {
	case int64:
		rl.Fence = v
		return &rl.Lease, nil
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

// own returns lease's Redis state: the one TryAcquire made, if lease is
// that very lease, unchanged, or else state rebuilt from its fields (a
// lease copied or built by hand).
func (r *Redis) own(lease *Lease) *redisLease {
	if rl, ok := lease.impl.(*redisLease); ok && &rl.Lease == lease && rl.locker == r &&
		rl.lockKey[len(r.prefix)+len("lock:{"):len(rl.lockKey)-1] == lease.Key {
		return rl
	}
	rl := &redisLease{locker: r, lockKey: r.lockKey(lease.Key)}
	rl.Token = lease.Token
	return rl
}

// Release implements Locker. Run by a worker that batches (see package
// internal/rbatch), the release joins the worker's final round trip, and
// its outcome is not reported.
func (r *Redis) Release(ctx context.Context, lease *Lease) error {
	rl := r.own(lease)
	rl.args = [8]any{argEvalSHA, releaseScript.SHA, argOneKey, &rl.lockKey, &rl.Token}
	if rbatch.Wants(ctx, r.client) {
		rbatch.Defer(ctx, r.client, rbatch.Op{Kind: rbatch.Release, Cmd: rscript.Cmd(ctx, rl.args[:5]...), Src: releaseScript.Src})
		return nil
	}
	return r.compareAnd(ctx, "release", lease, releaseScript, rl.args[:5])
}

// Refresh implements Locker.
func (r *Redis) Refresh(ctx context.Context, lease *Lease, ttl time.Duration) error {
	if err := checkArgs(lease.Key, ttl); err != nil {
		return err
	}
	rl := r.own(lease)
	rl.ttlMs = ttlArg(ttl)
	rl.args = [8]any{argEvalSHA, refreshScript.SHA, argOneKey, &rl.lockKey, &rl.Token, &rl.ttlMs}
	if err := r.compareAnd(ctx, "refresh", lease, refreshScript, rl.args[:6]); err != nil {
		return err
	}
	lease.TTL = ttl
	return nil
}

// compareAnd runs a script that acts on the lock only if lease owns it, and
// returns 0 if it does not.
func (r *Redis) compareAnd(ctx context.Context, op string, lease *Lease, s rscript.Script, args []any) error {
	res, err := r.run(ctx, s, args)
	if err != nil {
		return fmt.Errorf("lock %q: %s: %w", lease.Key, op, err)
	}
	if n, _ := res.(int64); n == 0 {
		return notHeld(lease)
	}
	return nil
}

// run sends args, an EVALSHA of s, in one round trip (two if the server
// lost its script cache).
func (r *Redis) run(ctx context.Context, s rscript.Script, args []any) (any, error) {
	return rscript.Run(ctx, r.client, s.Src, rscript.Cmd(ctx, args...)).Result()
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
			// Skip a lock that expired after SCAN, and released ones.
			if val, err := gets[i].Result(); err == nil && !strings.HasPrefix(val, "|") {
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
// holder learns of it at its next renewal, as ErrLeaseLost.
func (r *Redis) Break(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.lockKey(key)).Err(); err != nil {
		return fmt.Errorf("lock %q: break: %w", key, err)
	}
	return nil
}
