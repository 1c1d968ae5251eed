package redisbackend

import "strings"

// keys names the backend's keys (see the package doc). Each key a script
// touches carries a hash tag: a lock's key, or a queue's name.
type keys struct{ prefix string }

func (k keys) lock(key string) string { return k.prefix + "lock:{" + key + "}" }

// result is the key of a record: under its queue's hash tag, so that the
// script that ends a task can see it. A run in-process has queue "", and
// "{}" tags nothing: such keys spread over a Cluster by their whole name.
func (k keys) result(queue, id string) string { return k.prefix + "result:{" + queue + "}:" + id }

func (k keys) stream(queue string) string      { return k.prefix + "queue:{" + queue + "}" }
func (k keys) delayed(queue string) string     { return k.prefix + "queue:{" + queue + "}:delayed" }
func (k keys) dead(queue string) string        { return k.prefix + "queue:{" + queue + "}:dead" }
func (k keys) paused(queue string) string      { return k.prefix + "queue:{" + queue + "}:paused" }
func (k keys) statePrefix(queue string) string { return k.prefix + "queue:{" + queue + "}:task:" }
func (k keys) state(queue, id string) string   { return k.statePrefix(queue) + id }

// unique is the key that holds a unique key's task ID.
func (k keys) unique(queue, key string) string {
	return k.prefix + "queue:{" + queue + "}:unique:" + key
}

// channel is the one Pub/Sub channel of the backend: results and task
// states announce themselves on it.
func (k keys) channel() string { return k.prefix + "done" }

// Notices on the channel. Queue names have no braces, so "{<queue>}" ends
// unambiguously.
func resultNotice(queue, id string) string { return "r{" + queue + "}" + id }
func stateNotice(queue, id string) string  { return "t{" + queue + "}" + id }

// splitTagged splits "<tag>}<rest>", the end of a key after its "{", at the
// first '}'.
func splitTagged(s string) (tag, rest string, ok bool) {
	i := strings.IndexByte(s, '}')
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// escapeGlob escapes s for use in a SCAN MATCH pattern.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
