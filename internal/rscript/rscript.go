// Package rscript sends taskware's Lua scripts to Redis: by SHA1, and by
// body only when the server does not have them cached (after a restart or a
// SCRIPT FLUSH).
package rscript

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Script is a Lua script and its SHA1. SHA is boxed once, since it is a
// command argument on every call.
type Script struct {
	Src string
	SHA any
}

// New returns the Script of src.
func New(src string) Script { return Script{Src: src, SHA: redis.NewScript(src).Hash()} }

// Cmd makes an EVALSHA of args: "evalsha", the SHA, the number of keys, the
// keys, then the script's arguments. It is routed by its first key.
func Cmd(ctx context.Context, args ...any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, args...)
	cmd.SetFirstKeyPos(3)
	return cmd
}

// Run sends cmd, an EVALSHA of src made by Cmd, and sends it again as EVAL
// if the server does not have the script. It returns the command that
// answered.
func Run(ctx context.Context, c redis.UniversalClient, src string, cmd *redis.Cmd) *redis.Cmd {
	_ = c.Process(ctx, cmd)
	if !NoScript(cmd) {
		return cmd
	}
	cmd = AsEval(ctx, src, cmd)
	_ = c.Process(ctx, cmd)
	return cmd
}

// NoScript reports whether cmd failed because the server lacks its script.
// (HasErrorPrefix allocates, so nil is ruled out first.)
func NoScript(cmd redis.Cmder) bool {
	err := cmd.Err()
	return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT")
}

// AsEval returns an EVAL of src with the keys and arguments of cmd, an
// EVALSHA.
func AsEval(ctx context.Context, src string, cmd redis.Cmder) *redis.Cmd {
	return Cmd(ctx, append([]any{"eval", src}, cmd.Args()[2:]...)...)
}
