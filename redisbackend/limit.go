package redisbackend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/lockerstate"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/limit"
)

// A rate limit is one sorted set, "<prefix>rate:{<key>}". Its member ""
// is scored by the key's theoretical arrival time (the GCRA's TAT, in µs
// of the server's clock, TIME), and each Allow that was allowed within
// the last dedupWindow adds its nonce, scored by when it was allowed. So a
// resend of an allowed Allow (go-redis sends a command again after a lost
// reply, after Redis ran it) finds its nonce and is allowed again without
// being counted twice; a refused one changed nothing. The set expires once
// the TAT has passed and the nonces and turns are old, so nothing outlives
// its use.
// It holds a member per event allowed in the last dedupWindow: keep rates
// above some thousands a second on a key to memory you can spare. A
// Reserve keeps its turn there as well, by name: "t:<turn>" scored by when
// it comes, "u:<turn>" once used, for limit.MaxTurnLate past its time, so a
// resent Reserve, or the run coming back for its turn, is answered by it;
// and the TAT of the starts, "s:".
//
// A semaphore is one sorted set, "<prefix>sem:{<key>}", of the permits'
// owner tokens scored by their expiry (µs, the server's clock). An acquire
// first trims the expired ones; finding its own token there, it succeeds
// (a resend). A release is a ZREM of the owner's token: gone already is
// fine. A refresh moves the token's expiry only if the token is there and
// live. The set's TTL covers its last permit's expiry.
//
// Every script reads the server's clock, so the clients' clocks do not
// matter. Each call is one round trip, sent through the backend's batcher
// so that concurrent calls share pipelines.
var (
	allowScript = newScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local iv, burst, win = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - win))
local tat = tonumber(redis.call('ZSCORE', KEYS[1], '') or 0)
if tat < now then tat = now end
local span = iv * burst
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  return {1, math.floor(math.max(span - (tat - now), 0) / iv), tat - now}
end
local nxt = tat + iv
if nxt - now > span then
  return {0, nxt - now - span, tat - now}
end
redis.call('ZADD', KEYS[1], string.format('%d', nxt), '', string.format('%d', now), ARGV[3])
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil((nxt - now + win) / 1000)))
return {1, math.floor((span - (nxt - now)) / iv), nxt - now}`)
	// reserveScript is Reserve: limit.ReserveGCRA, with the key's turns in
	// its set, "t:<turn>" scored by when it comes, "u:<turn>" once used,
	// and the starts' TAT as "s:". ARGV: interval (µs), burst, turn,
	// window (µs): how long a turn is kept, and may be late.
	reserveScript = newScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local iv, burst, win = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local used, kept = 'u:' .. ARGV[3], 't:' .. ARGV[3]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - win))
local tat = tonumber(redis.call('ZSCORE', KEYS[1], '') or 0)
local span = iv * burst
if redis.call('ZSCORE', KEYS[1], used) then
  local ahead = math.max(tat - now, 0)
  return {1, math.floor(math.max(span - ahead, 0) / iv), ahead}
end
local at = tonumber(redis.call('ZSCORE', KEYS[1], kept) or -1)
if at < 0 then
  tat = math.max(tat, now) + iv
  at = math.max(tat - span, now)
  redis.call('ZADD', KEYS[1], string.format('%d', tat), '', string.format('%d', at), kept)
end
local ahead = math.max(tat - now, 0)
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.max(math.ceil((math.max(tat, at) - now + win) / 1000), 1)))
if at > now then return {0, at - now, ahead} end
local started = tonumber(redis.call('ZSCORE', KEYS[1], 's:') or 0)
local nxt = math.max(started, now) + iv
if nxt - now > span + iv then return {0, nxt - now - span - iv, ahead} end
redis.call('ZREM', KEYS[1], kept)
redis.call('ZADD', KEYS[1], string.format('%d', nxt), 's:', string.format('%d', at), used)
return {1, math.floor(math.max(span - ahead, 0) / iv), ahead}`)
	semAcquireScript = newScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {1, 0} end
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, held, tonumber(first[2]) - now}
end
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], string.format('%d', now + ttl), ARGV[1])
local ms = math.ceil(ttl / 1000)
if redis.call('PTTL', KEYS[1]) < ms then redis.call('PEXPIRE', KEYS[1], string.format('%d', ms)) end
return {1, held + 1}`)
	semRefreshScript = newScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) <= now then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', string.format('%d', now + ttl), ARGV[1])
local ms = math.ceil(ttl / 1000)
if redis.call('PTTL', KEYS[1]) < ms then redis.call('PEXPIRE', KEYS[1], string.format('%d', ms)) end
return 1`)
)

// dedupWindow is how long an allowed Allow's nonce is kept: longer than
// go-redis takes to send a command again after a lost reply (its retries,
// each after a read timeout of 3s by default).
const dedupWindow = 10 * time.Second

var (
	argDedupWindow any = dedupWindow.Microseconds()
	argTurnWindow  any = limit.MaxTurnLate.Microseconds()
	argZrem        any = "zrem"
)

func (k keys) sem(key string) string { return k.prefix + "sem:{" + key + "}" }

// RateLimiter is the backend's limit.RateLimiter: the GCRA in one script
// on the server's clock, one round trip per Allow.
type RateLimiter struct{ b *Backend }

// RateLimiter returns the backend's rate limiter.
func (b *Backend) RateLimiter() *RateLimiter { return &RateLimiter{b: b} }

// allowCall is one Allow's state: its command's arguments point into it,
// so that one allocation holds them.
type allowCall struct {
	rateKey, nonce  string
	interval, burst int64
	args            [8]any
	ops             [1]op
}

// Allow implements limit.RateLimiter. The interval is counted in whole
// microseconds, rounded up.
func (r *RateLimiter) Allow(ctx context.Context, key string, rate limit.Rate, burst int) (limit.Decision, error) {
	if err := limit.ValidateRate(key, rate, burst); err != nil {
		return limit.Decision{}, err
	}
	var nonce [13]byte // base 36 of 64 random bits
	n := strconv.AppendUint(nonce[:0], rand.Uint64()|1<<63, 36)
	// One string holds the key and the nonce: one allocation.
	s := r.b.keys.prefix + "rate:{" + key + "}" + string(n)
	keyEnd := len(s) - len(n)
	c := &allowCall{rateKey: s[:keyEnd], nonce: s[keyEnd:], burst: int64(burst),
		interval: int64((rate.Interval() + time.Microsecond - 1) / time.Microsecond)}
	c.args = [8]any{argEvalSHA, allowScript.sha, argOneKey, &c.rateKey, &c.interval, &c.burst, &c.nonce, argDedupWindow}
	c.ops[0] = scriptOp(allowScript, c.args[:])
	if err := r.b.batch.do(ctx, c.ops[:]); err != nil {
		return limit.Decision{}, fmt.Errorf("limit %q: allow: %w", key, err)
	}
	return decision(ctx, key, "allow", c.ops[0].cmd.(*redis.Cmd))
}

// Reserve implements limit.RateLimiter, in one round trip. A turn is kept
// in the key's set for limit.MaxTurnLate past its time, so a resent
// Reserve answers as the first did.
func (r *RateLimiter) Reserve(ctx context.Context, key, turn string, rate limit.Rate, burst int) (limit.Decision, error) {
	if err := limit.ValidateRate(key, rate, burst); err != nil {
		return limit.Decision{}, err
	}
	iv := (rate.Interval() + time.Microsecond - 1) / time.Microsecond
	args := []any{argEvalSHA, reserveScript.sha, argOneKey, r.b.keys.prefix + "rate:{" + key + "}",
		int64(iv), int64(burst), turn, argTurnWindow}
	ops := [1]op{scriptOp(reserveScript, args)}
	if err := r.b.batch.do(ctx, ops[:]); err != nil {
		return limit.Decision{}, fmt.Errorf("limit %q: reserve: %w", key, err)
	}
	return decision(ctx, key, "reserve", ops[0].cmd.(*redis.Cmd))
}

// decision reads the reply of an Allow or a Reserve.
func decision(ctx context.Context, key, call string, cmd *redis.Cmd) (limit.Decision, error) {
	res, err := cmd.Int64Slice()
	if err != nil {
		return limit.Decision{}, fmt.Errorf("limit %q: %s: %w", key, call, unavailable(ctx, err))
	}
	if len(res) != 3 {
		return limit.Decision{}, fmt.Errorf("limit %q: %s: unexpected reply %v", key, call, res)
	}
	d := limit.Decision{Allowed: res[0] == 1, ResetAfter: time.Duration(res[2]) * time.Microsecond}
	if d.Allowed {
		d.Remaining = int(res[1])
	} else {
		d.RetryAfter = time.Duration(res[1]) * time.Microsecond
	}
	return d, nil
}

// Semaphore is the backend's limit.Semaphore: owned, expiring permits in
// a sorted set per key, on the server's clock. TryAcquire, Release and
// Refresh are one round trip each.
type Semaphore struct{ b *Backend }

// Semaphore returns the backend's semaphore.
func (b *Backend) Semaphore() *Semaphore { return &Semaphore{b: b} }

// redisPermit is a Permit together with its commands' arguments, which
// point into it. A permit is released once, and refreshed by one
// goroutine at a time, so each has arrays of its own.
type redisPermit struct {
	limit.Permit
	sem          *Semaphore
	semKey       string
	n, ttlUs     int64
	args         [7]any // acquire, then release
	refreshArgs  [6]any // apart: a refresh may be in flight during a release
	ops, refresh [1]op
}

// TryAcquire implements limit.Semaphore.
func (s *Semaphore) TryAcquire(ctx context.Context, key string, n int, ttl time.Duration) (*limit.Permit, error) {
	if err := limit.ValidatePermit(key, n, ttl); err != nil {
		return nil, err
	}
	var token [randid.Len]byte
	randid.Fill(&token)
	str := s.b.keys.prefix + "sem:{" + key + "}" + string(token[:])
	keyEnd := len(str) - randid.Len
	now := time.Now() // the permit runs from before the request, to be safe
	p := &redisPermit{sem: s, semKey: str[:keyEnd], n: int64(n), ttlUs: durMicros(ttl)}
	p.Permit = limit.Permit{Key: key, Token: str[keyEnd:], Limit: n, TTL: ttl, AcquiredAt: now}
	*lockerstate.Permit(&p.Permit) = p
	p.args = [7]any{argEvalSHA, semAcquireScript.sha, argOneKey, &p.semKey, &p.Token, &p.n, &p.ttlUs}
	p.ops[0] = scriptOp(semAcquireScript, p.args[:])
	err := s.b.batch.do(ctx, p.ops[:])
	var res []int64
	if err == nil {
		res, err = p.ops[0].cmd.(*redis.Cmd).Int64Slice()
		err = unavailable(ctx, err)
	}
	if err != nil {
		// It may hold a permit now, that nobody would release: a ZREM by
		// its own token frees only that one, and costs nothing otherwise.
		s.forget(p)
		return nil, fmt.Errorf("limit %q: acquire: %w", key, err)
	}
	switch {
	case len(res) == 2 && res[0] == 1:
		return &p.Permit, nil
	case len(res) == 3 && res[0] == 0:
		return nil, &limit.ConcurrencyLimitedError{Key: key, Limit: n, Held: int(res[1]),
			Remaining: time.Duration(res[2]) * time.Microsecond}
	}
	return nil, fmt.Errorf("limit %q: acquire: unexpected reply %v", key, res)
}

func durMicros(d time.Duration) int64 { return max(d.Microseconds(), 1) }

// forget sends the release of p in the background, once, for an acquire
// whose reply was lost: at worst the permit expires with its TTL.
func (s *Semaphore) forget(p *redisPermit) {
	args := []any{argZrem, p.semKey, p.Token}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.b.client.Process(ctx, redis.NewIntCmd(ctx, args...))
	}()
}

// own returns p's Redis state: the one TryAcquire made, if p is that very
// permit, or else state rebuilt from its fields.
func (s *Semaphore) own(p *limit.Permit) *redisPermit {
	if rp, ok := (*lockerstate.Permit(p)).(*redisPermit); ok && &rp.Permit == p && rp.sem == s &&
		rp.semKey[len(s.b.keys.prefix)+len("sem:{"):len(rp.semKey)-1] == p.Key {
		return rp
	}
	rp := &redisPermit{sem: s, semKey: s.b.keys.sem(p.Key)}
	rp.Key, rp.Token = p.Key, p.Token
	return rp
}

// Release implements limit.Semaphore: a ZREM of the permit's token.
func (s *Semaphore) Release(ctx context.Context, p *limit.Permit) error {
	if p.Token == "" {
		return nil
	}
	rp := s.own(p)
	rp.args = [7]any{argZrem, &rp.semKey, &rp.Token}
	rp.ops[0] = op{cmd: redis.NewIntCmd(context.Background(), rp.args[:3]...)}
	err := s.b.batch.do(ctx, rp.ops[:])
	if err == nil {
		err = unavailable(ctx, rp.ops[0].cmd.Err())
	}
	if err != nil {
		return fmt.Errorf("limit %q: release: %w", p.Key, err)
	}
	return nil
}

// Refresh implements limit.Semaphore.
func (s *Semaphore) Refresh(ctx context.Context, p *limit.Permit, ttl time.Duration) error {
	if err := limit.ValidatePermit(p.Key, 1, ttl); err != nil {
		return err
	}
	rp := s.own(p)
	rp.ttlUs = durMicros(ttl)
	rp.refreshArgs = [6]any{argEvalSHA, semRefreshScript.sha, argOneKey, &rp.semKey, &rp.Token, &rp.ttlUs}
	rp.refresh[0] = scriptOp(semRefreshScript, rp.refreshArgs[:])
	if err := s.b.batch.do(ctx, rp.refresh[:]); err != nil {
		return fmt.Errorf("limit %q: refresh: %w", p.Key, err)
	}
	res, err := rp.refresh[0].cmd.(*redis.Cmd).Int64()
	if err != nil {
		return fmt.Errorf("limit %q: refresh: %w", p.Key, unavailable(ctx, err))
	}
	if res == 0 || p.Token == "" {
		return &limit.PermitLostError{Key: p.Key}
	}
	if p.TTL != ttl { // written only if it changes: the holder may be reading it
		p.TTL = ttl
	}
	return nil
}
