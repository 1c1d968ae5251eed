package redisbackend

import (
	"context"
	"embed"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/task"
)

// script is a Lua script and its SHA1. The SHA is boxed once, since it is a
// command argument on every call.
type script struct {
	src string
	sha any
}

func newScript(src string) script { return script{src: src, sha: redis.NewScript(src).Hash()} }

// The backend's Lua, a file per script in lua/, and the helpers scripts
// share in lua/lib/. Each file opens with a table of its KEYS and ARGV,
// and names them as locals.
//
//go:embed lua
var luaFiles embed.FS

// lua returns the files of lua/ named, one after the other: a script is
// the helpers it uses, then its own file.
func lua(files ...string) string {
	var b strings.Builder
	for _, f := range files {
		src, err := luaFiles.ReadFile("lua/" + f)
		if err != nil {
			panic("redisbackend: " + err.Error()) // a name misspelt here: the package fails to start
		}
		b.Write(src)
		b.WriteByte('\n')
	}
	return b.String()
}

// Command arguments that never change, boxed once so that no call pays for
// them.
var (
	argEvalSHA any = "evalsha"
	argOneKey  any = "1"
	argOne     any = "1"
	argZero    any = "0"
	argEmpty   any = ""
)

// evalSHA makes an EVALSHA of s on keys with args, routed by its first key.
func (s script) evalSHA(keys []string, args ...any) *redis.Cmd {
	all := make([]any, 0, 3+len(keys)+len(args))
	all = append(all, argEvalSHA, s.sha, len(keys))
	for _, k := range keys {
		all = append(all, k)
	}
	return scriptCmd(append(all, args...))
}

// scriptCmd makes a command of args, "evalsha" or "eval", the SHA or body,
// the number of keys, the keys, then the arguments. It is routed by its
// first key.
func scriptCmd(args []any) *redis.Cmd {
	cmd := redis.NewCmd(context.Background(), args...)
	cmd.SetFirstKeyPos(3)
	return cmd
}

// op is a command to send, with the body of its script if it is an
// EVALSHA, to send instead if the server lost its script cache.
type op struct {
	cmd redis.Cmder
	src string
}

// scriptOp is the op of an EVALSHA of s with args (see scriptCmd).
func scriptOp(s script, args []any) op { return op{cmd: scriptCmd(args), src: s.src} }

// run sends cmd, an EVALSHA of s, and sends it again as EVAL if the server
// does not have the script: one round trip, two after a SCRIPT FLUSH or a
// restart. It returns the command that answered.
func (b *Backend) run(ctx context.Context, s script, cmd *redis.Cmd) *redis.Cmd {
	_ = b.client.Process(ctx, cmd)
	if !noScript(cmd) {
		return cmd
	}
	cmd = asEval(s.src, cmd)
	_ = b.client.Process(ctx, cmd)
	return cmd
}

// exec sends ops in one pipeline, then sends again, as EVAL, any EVALSHA
// the server did not have, replacing its cmd. Read each op's outcome from
// its cmd.
func (b *Backend) exec(ctx context.Context, ops []op) {
	if len(ops) == 1 {
		if c, ok := ops[0].cmd.(*redis.Cmd); ok && ops[0].src != "" {
			ops[0].cmd = b.run(ctx, script{src: ops[0].src}, c)
			return
		}
	}
	calls := [1][]op{ops}
	b.execAll(ctx, calls[:])
}

// execAll is exec of the ops of several callers, in one pipeline.
func (b *Backend) execAll(ctx context.Context, calls [][]op) {
	n := 0
	for _, ops := range calls {
		n += len(ops)
	}
	cmds := make([]redis.Cmder, 0, n) // handed over whole: one allocation
	for _, ops := range calls {
		for _, o := range ops {
			cmds = append(cmds, o.cmd)
		}
	}
	pipe := b.client.Pipeline()
	_ = pipe.BatchProcess(ctx, cmds...)
	_, _ = pipe.Exec(ctx)
	for _, ops := range calls {
		for i, o := range ops {
			if o.src != "" && noScript(o.cmd) {
				cmd := asEval(o.src, o.cmd)
				_ = b.client.Process(ctx, cmd)
				ops[i].cmd = cmd
			}
		}
	}
}

// noScript reports whether cmd failed because the server lacks its script.
// (HasErrorPrefix allocates, so nil is ruled out first.)
func noScript(cmd redis.Cmder) bool {
	err := cmd.Err()
	return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT")
}

// asEval returns an EVAL of src with the keys and arguments of cmd, an
// EVALSHA.
func asEval(src string, cmd redis.Cmder) *redis.Cmd {
	return scriptCmd(append([]any{"eval", src}, cmd.Args()[2:]...))
}

// unavailable marks err as an error of the infrastructure
// (task.ErrUnavailable) unless it is a reply of Redis's about the command
// itself, or ctx has ended. Connection errors, timeouts and replies that
// say the server cannot serve now (LOADING, READONLY, CLUSTERDOWN, ...) are
// the infrastructure's.
func unavailable(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, redis.Nil) || ctx.Err() != nil || errors.Is(err, task.ErrUnavailable) {
		return err
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		for _, p := range []string{"LOADING", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "BUSY ", "OOM", "NOREPLICAS"} {
			if redis.HasErrorPrefix(err, p) {
				return task.Unavailable(err)
			}
		}
		return err
	}
	return task.Unavailable(err)
}
