package redisbackend

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/internal/lockerstate"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// A lock is one key, "<prefix>lock:{<key>}". While held, its value is
// "token|fence|sinceµs|holder", and "token|fence|sinceµs|holder|task:q/id"
// when it was taken for a task run (lock.WithOwnerTask): q and id are the
// run's queue and ID, path-escaped so that neither holds a "|" or a "/".
// The holder may hold a "|" itself, so the run is read from the last
// "|task:" (a value written before runs were recorded has four parts, and
// still reads). The scripts read only the token and the fence. A release does not delete it but leaves
// "|fence|token" for the rest of the lease's TTL, so that the next lease's
// fence is larger even if the server's clock stepped back meanwhile, and so
// that a release sent twice is still the owner's; no other key is needed,
// and nothing outlives the lease's TTL.
//
// Fences are the server's clock in microseconds (TIME), bumped above the
// last fence when that is not larger: they grow with every lease on a key,
// across releases and expiries alike. Lua prints numbers this large as
// 1.7e+15, so they are formatted with %d.
//
// go-redis sends a command again when its reply is lost (a cut connection,
// a read timeout), after Redis ran it. So every script answers its caller
// the same the second time: the owner's token, matched whole, makes "done
// already, by me" a success. An acquire that finds its own token returns
// its fence; a release that finds its own released marker returns 1; a
// refresh sets the same TTL again.
var (
	acquireScript = newScript(`
local v = redis.call('GET', KEYS[1])
local last = 0
if v then
  local tok, fence = string.match(v, '^([^|]*)|(%d+)')
  if tok == ARGV[1] then return tonumber(fence) end
  if tok ~= '' then return {v, redis.call('PTTL', KEYS[1])} end
  last = tonumber(fence) or 0
end
local t = redis.call('TIME')
local f = tonumber(t[1]) * 1000000 + tonumber(t[2])
if f <= last then f = last + 1 end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. string.format('%d', f) .. '|' .. ARGV[4] .. '|' .. ARGV[3], 'PX', ARGV[2])
return f`)
	releaseScript = newScript(releaseLua + `return release(1, 1)`)
	refreshScript = newScript(`
local v = redis.call('GET', KEYS[1])
if v and ARGV[1] ~= '' and string.match(v, '^([^|]*)|') == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
)

// releaseLua defines release(k, a), which releases the locks KEYS[k],
// KEYS[k+1], ... held by the tokens ARGV[a], ARGV[a+1], ..., and returns how
// many its tokens owned: released now, or by that token already. The
// scripts that end a task start with it, so that a task's locks go in the
// call that ends it.
const releaseLua = `
local function release(k, a)
  local n = 0
  for i = k, #KEYS do
    local tok = ARGV[a + i - k]
    local v = redis.call('GET', KEYS[i])
    if v and tok and tok ~= '' then
      local t, fence, rest = string.match(v, '^([^|]*)|(%d+)(.*)$')
      if t == tok then
        redis.call('SET', KEYS[i], '|' .. fence .. '|' .. tok, 'KEEPTTL')
        n = n + 1
      elseif t == '' and rest == '|' .. tok then
        n = n + 1
      end
    end
  end
  return n
end
`

// Locker is the backend's lock.Locker, lock.Inspector and
// lock.FinalReleaser. TryAcquire, Release and Refresh are one round trip
// each. A lease taken by TryAcquire carries its key and command arguments,
// so that its release and refreshes do not allocate them again.
type Locker struct{ b *Backend }

// redisLease is a Lease together with what Redis needs to release and
// refresh it: the key and the token share one string, and the commands'
// arguments point into the lease. A lease is released at most once, and
// refreshed by one goroutine at a time, so release and refresh each reuse
// arrays of their own.
type redisLease struct {
	lock.Lease
	locker         *Locker
	lockKey        string
	holderArg      string // the holder and the run, when the lease has a run
	ttlMs, sinceUs int64
	args           [8]any // acquire, then release
	refreshArgs    [6]any // apart: a refresh may be in flight during a release
	ops, refreshOp [1]op
	final          finalOp   // its release at the end of the run (FinalRelease)
	buf            [192]byte // holds the key, the token and the run, if they fit
}

func ttlArg(ttl time.Duration) int64 { return max(ttl.Milliseconds(), 1) }

// TryAcquire implements lock.Locker. It records in the lock the task run
// that ctx works for (lock.OwnerTaskFrom), in the same one round trip, and
// a LockedError names the holder's, read from the value the script returns.
func (l *Locker) TryAcquire(ctx context.Context, key string, ttl time.Duration) (*lock.Lease, error) {
	if err := lock.Validate(key, ttl); err != nil {
		return nil, err
	}
	owner, _ := lock.OwnerTaskFrom(ctx)
	var token [randid.Len]byte
	randid.Fill(&token)
	// One string holds the key, the token and, with a run, the holder
	// argument, in the lease's own array if it fits.
	now := time.Now() // the lease runs from before the request, to be safe
	rl := &redisLease{locker: l, ttlMs: ttlArg(ttl), sinceUs: now.UnixMicro()}
	keyEnd := len(l.b.keys.prefix) + len("lock:{") + len(key) + len("}")
	tokenEnd := keyEnd + randid.Len
	b := append(append(append(append(rl.buf[:0], l.b.keys.prefix...), "lock:{"...), key...), '}')
	b = append(b, token[:]...)
	if !owner.IsZero() {
		holder, _ := l.b.holder.(string)
		b = append(append(append(b, holder...), taskTag...), url.PathEscape(owner.Queue)...)
		b = append(append(b, '/'), url.PathEscape(owner.ID)...)
	}
	s := unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
	run := s[tokenEnd:]
	rl.lockKey = s[:keyEnd]
	rl.Lease = lock.Lease{Key: key, Token: s[keyEnd:tokenEnd], TTL: ttl, AcquiredAt: now, Task: owner}
	*lockerstate.Lease(&rl.Lease) = rl
	var holder any = l.b.holder
	if run != "" {
		rl.holderArg = s[tokenEnd:]
		holder = &rl.holderArg
	}
	rl.args = [8]any{argEvalSHA, acquireScript.sha, argOneKey, &rl.lockKey, &rl.Token, &rl.ttlMs, holder, &rl.sinceUs}
	rl.ops[0] = scriptOp(acquireScript, rl.args[:])
	err := l.b.batch.do(ctx, rl.ops[:])
	var res any
	if err == nil {
		res, err = rl.ops[0].cmd.(*redis.Cmd).Result()
		err = unavailable(ctx, err)
	}
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, task.ErrUnavailable) {
			l.forget(rl, ttl) // it may hold the lock now, and nobody would release it
		}
		if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
			// Cut short mid-call, go-redis says only "context canceled":
			// the caller's cause says why.
			return nil, fmt.Errorf("lock %q: acquire: %w: %w", key, cause, err)
		}
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
			info := parseLock(key, val, time.Duration(pttl)*time.Millisecond)
			return nil, &lock.LockedError{Key: key, Holder: info.Holder, Since: info.Since, Remaining: info.Remaining, Task: info.Task}
		}
	}
	return nil, fmt.Errorf("lock %q: acquire: unexpected reply %v", key, res)
}

// own returns lease's Redis state: the one TryAcquire made, if lease is
// that very lease, unchanged, or else state rebuilt from its fields (a
// lease copied or built by hand).
func (l *Locker) own(lease *lock.Lease) *redisLease {
	if rl, ok := (*lockerstate.Lease(lease)).(*redisLease); ok && &rl.Lease == lease && rl.locker == l &&
		rl.lockKey[len(l.b.keys.prefix)+len("lock:{"):len(rl.lockKey)-1] == lease.Key {
		return rl
	}
	rl := &redisLease{locker: l, lockKey: l.b.keys.lock(lease.Key)}
	rl.Key, rl.Token = lease.Key, lease.Token
	return rl
}

// releaseArgs are the arguments of the release of rl, an EVALSHA.
func (rl *redisLease) releaseArgs() []any {
	rl.args = [8]any{argEvalSHA, releaseScript.sha, argOneKey, &rl.lockKey, &rl.Token}
	return rl.args[:5]
}

// Release implements lock.Locker. If Redis cannot be reached, the release
// goes on in the background (see forget), and the error matches
// task.ErrUnavailable.
func (l *Locker) Release(ctx context.Context, lease *lock.Lease) error {
	rl := l.own(lease)
	rl.ops[0] = scriptOp(releaseScript, rl.releaseArgs())
	err := l.b.batch.do(ctx, rl.ops[:])
	if err == nil {
		err = compared(ctx, rl.ops[0].cmd, lease, "release")
	} else {
		err = fmt.Errorf("lock %q: release: %w", lease.Key, err)
	}
	if err != nil && (ctx.Err() != nil || errors.Is(err, task.ErrUnavailable)) {
		l.forget(rl, lease.TTL)
	}
	return err
}

// forget releases rl in the background: its acquire or release may have
// reached Redis though no reply came back, and the lock would then stay
// held, by nobody, until its TTL ran out (a run requeued after the outage
// would find it held by itself). It tries again, with backoff, until a
// release answers, the TTL would have run out, or the client is closed. A
// release by rl's own token can only free rl's own lease.
func (l *Locker) forget(rl *redisLease, ttl time.Duration) {
	args := []any{argEvalSHA, releaseScript.sha, argOneKey, rl.lockKey, rl.Token} // apart from rl.args: rl may be in use
	deadline := time.Now().Add(ttl)
	go func() {
		pause := backoff.New(20*time.Millisecond, time.Second)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			err := l.b.run(ctx, releaseScript, scriptCmd(args)).Err()
			cancel()
			if err == nil || errors.Is(err, redis.ErrClosed) || !errors.Is(unavailable(context.Background(), err), task.ErrUnavailable) {
				return
			}
			time.Sleep(min(pause.Next(), time.Until(deadline)))
		}
	}()
}

// FinalRelease implements lock.FinalReleaser: the release, for the round
// trip that ends the task.
func (l *Locker) FinalRelease(lease *lock.Lease) task.FinalWrite {
	rl := l.own(lease)
	rl.final = finalOp{b: l.b, lockKey: &rl.lockKey, token: &rl.Token}
	return &rl.final
}

// Refresh implements lock.Locker.
func (l *Locker) Refresh(ctx context.Context, lease *lock.Lease, ttl time.Duration) error {
	if err := lock.Validate(lease.Key, ttl); err != nil {
		return err
	}
	rl := l.own(lease)
	rl.ttlMs = ttlArg(ttl)
	rl.refreshArgs = [6]any{argEvalSHA, refreshScript.sha, argOneKey, &rl.lockKey, &rl.Token, &rl.ttlMs}
	rl.refreshOp[0] = scriptOp(refreshScript, rl.refreshArgs[:])
	if err := l.b.batch.do(ctx, rl.refreshOp[:]); err != nil {
		return fmt.Errorf("lock %q: refresh: %w", lease.Key, err)
	}
	if err := compared(ctx, rl.refreshOp[0].cmd, lease, "refresh"); err != nil {
		return err
	}
	if lease.TTL != ttl { // written only if it changes: the holder may be reading it
		lease.TTL = ttl
	}
	return nil
}

// compared reads the reply of a script that acts on the lock only if lease
// owns it, and answers 0 if it does not.
func compared(ctx context.Context, cmd redis.Cmder, lease *lock.Lease, what string) error {
	res, err := cmd.(*redis.Cmd).Result()
	if err != nil {
		return fmt.Errorf("lock %q: %s: %w", lease.Key, what, unavailable(ctx, err))
	}
	if n, _ := res.(int64); n == 0 {
		return &lock.NotHeldError{Key: lease.Key}
	}
	return nil
}

// Held implements lock.Inspector. It scans the lock keyspace, on every
// master of a *redis.ClusterClient, and reads each batch of locks with
// their TTLs in one pipeline. The list is sorted by key.
func (l *Locker) Held(ctx context.Context) ([]lock.Info, error) {
	var out []lock.Info
	start := len(l.b.keys.prefix) + len("lock:{")
	err := l.b.scan(ctx, escapeGlob(l.b.keys.prefix)+"lock:{*}", func(ctx context.Context, node redis.Cmdable, keys []string) error {
		vals, err := readWithTTL(ctx, node, keys)
		for i, v := range vals {
			// Skip a lock that expired after SCAN, and released ones.
			if v.ok && !strings.HasPrefix(v.val, "|") {
				out = append(out, parseLock(keys[i][start:len(keys[i])-1], v.val, v.ttl))
			}
		}
		return err
	})
	if err != nil {
		err = fmt.Errorf("lock: list held: %w", unavailable(ctx, err))
	}
	slices.SortFunc(out, func(a, b lock.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, err
}

// taskTag opens the task run in a lock's value.
const taskTag = "|task:"

// parseLock reads a lock value "token|fence|sinceµs|holder", or
// "token|fence|sinceµs|holder|task:q/id".
func parseLock(key, val string, remaining time.Duration) lock.Info {
	info := lock.Info{Key: key, Remaining: remaining}
	parts := strings.SplitN(val, "|", 4)
	if len(parts) == 4 {
		info.Fence, _ = strconv.ParseInt(parts[1], 10, 64)
		if us, err := strconv.ParseInt(parts[2], 10, 64); err == nil {
			info.Since = time.UnixMicro(us)
		}
		info.Holder = parts[3]
		if i := strings.LastIndex(parts[3], taskTag); i >= 0 {
			if t, ok := parseRun(parts[3][i+len(taskTag):]); ok {
				info.Holder, info.Task = parts[3][:i], t
			}
		}
	}
	return info
}

// parseRun reads "q/id", both path-escaped, as TryAcquire writes them.
func parseRun(s string) (lock.TaskRef, bool) {
	q, id, ok := strings.Cut(s, "/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return lock.TaskRef{}, false
	}
	q, qerr := url.PathUnescape(q)
	id, iderr := url.PathUnescape(id)
	if qerr != nil || iderr != nil {
		return lock.TaskRef{}, false
	}
	return lock.TaskRef{Queue: q, ID: id}, true
}

// Break implements lock.Inspector.
func (l *Locker) Break(ctx context.Context, key string) error {
	if err := l.b.client.Del(ctx, l.b.keys.lock(key)).Err(); err != nil {
		return fmt.Errorf("lock %q: break: %w", key, unavailable(ctx, err))
	}
	return nil
}
