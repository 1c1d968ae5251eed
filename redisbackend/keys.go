package redisbackend

import (
	"strconv"
	"strings"
)

// keys names the backend's keys, each under its prefix, and each with a
// hash tag, so that all the keys of one script share a Cluster slot: a
// lock's key, or a queue's name. These functions are the one place that
// spells a key (but for the limits' keys, in limit.go); the scripts in
// lua/ are given the keys, or, where only the script knows the task IDs,
// the prefix of the queue's task states.
type keys struct{ prefix string }

// lock is a lock's key (see locker.go for its value).
func (k keys) lock(key string) string { return k.prefix + "lock:{" + key + "}" }

// result is the key of a record: under its queue's hash tag, so that the
// script that ends a task can write it. A run in-process has queue "", and
// "{}" tags nothing: such keys spread over a Cluster by their whole name.
func (k keys) result(queue, id string) string { return k.prefix + "result:{" + queue + "}:" + id }

// stream is a queue's stream of ready and taken tasks.
func (k keys) stream(queue string) string { return k.prefix + "queue:{" + queue + "}" }

// delayed is a queue's sorted set of the IDs of tasks that wait, by due
// time (ms).
func (k keys) delayed(queue string) string { return k.prefix + "queue:{" + queue + "}:delayed" }

// dead is a queue's dead letters, a capped stream.
func (k keys) dead(queue string) string { return k.prefix + "queue:{" + queue + "}:dead" }

// ahead is a queue's list of the entries Recover took over, to be handed
// out first (take.lua), and early the set of those handed out ahead of
// the consumer group's cursor.
func (k keys) ahead(queue string) string { return k.prefix + "queue:{" + queue + "}:ahead" }
func (k keys) early(queue string) string { return k.prefix + "queue:{" + queue + "}:early" }

// ended is the index of a queue's ended tasks, newest first, for their
// listing (see lib/ended.lua).
func (k keys) ended(queue string) string { return k.prefix + "queue:{" + queue + "}:ended" }

// waiting is a queue's sorted set of the IDs of its workflow steps that
// wait for their parents, by when they began to (µs); see
// lua/lib/flow.lua, which spells it too.
func (k keys) waiting(queue string) string { return k.prefix + "queue:{" + queue + "}:waiting" }

// groups starts the keys of a queue's groups of grouped messages, and of
// its count of them, which lua/lib/groups.lua names; batchSeq counts the
// queue's batches, for their IDs (see lua/flush_groups.lua).
func (k keys) groups(queue string) string   { return k.prefix + "queue:{" + queue + "}:" }
func (k keys) grouped(queue string) string  { return k.groups(queue) + "grouped" }
func (k keys) batchSeq(queue string) string { return k.prefix + "queue:{" + queue + "}:batchseq" }

// queues is the set of the names of the queues this backend's producers,
// workers and admins have used (see Queue.Queues).
func (k keys) queues() string { return k.prefix + "queues" }

// scheduleDefs is the hash of the stored schedule entries (see
// lua/put_schedule.lua); scheduleVersion the counter their changes bump
// (lua/lib/version.lua); scheduleRemoved the removes' tombstones, for a
// minute (lua/remove_schedule.lua); scheduleSince the first-seen times of
// entry names, one field per name ever run with Stored
// (lua/schedule_since.lua). All four share the {schedule} hash tag, not
// a queue's: they are the backend's, as the schedules board is.
func (k keys) scheduleDefs() string    { return k.prefix + "schedule:{schedule}:defs" }
func (k keys) scheduleVersion() string { return k.prefix + "schedule:{schedule}:version" }
func (k keys) scheduleRemoved() string { return k.prefix + "schedule:{schedule}:removed" }
func (k keys) scheduleSince() string   { return k.prefix + "schedule:{schedule}:since" }

// partitions is the hash of the queues' partition counts (see
// partition.go): field <queue> the count producers route over, field
// <queue>#high the most the queue ever had.
func (k keys) partitions() string { return k.prefix + "partitions" }

// paused exists while a queue is paused.
func (k keys) paused(queue string) string { return k.prefix + "queue:{" + queue + "}:paused" }

// reply keeps, for a minute, the answer of an admin call that is not safe
// to run twice (RequeueDead, PurgeDead), under the call's nonce: the call
// sent again after a lost reply returns it (see replyTTL).
func (k keys) reply(queue, nonce string) string {
	return k.prefix + "queue:{" + queue + "}:reply:" + nonce
}

// statePrefix starts the keys of a queue's task states.
func (k keys) statePrefix(queue string) string { return k.prefix + "queue:{" + queue + "}:task:" }

// state is a task's state, a hash: its status, attempt and outcome, its
// current stream entry, and its message's core while it is delayed.
func (k keys) state(queue, id string) string { return k.statePrefix(queue) + id }

// inputs is a workflow step's inputs: its parents' outcomes, as they end
// (see lua/lib/flow.lua, which builds the workflows' keys too: a step's
// children may sit on other queues).
func (k keys) inputs(queue, id string) string { return k.prefix + "queue:{" + queue + "}:in:" + id }

// workflow is a workflow's record, in its home queue; workflowSteps its
// steps' names, queues, places and parents; workflowEnded the steps that
// ended, and how.
func (k keys) workflow(queue, id string) string { return k.prefix + "queue:{" + queue + "}:wf:" + id }
func (k keys) workflowSteps(queue, id string) string {
	return k.prefix + "queue:{" + queue + "}:wfsteps:" + id
}
func (k keys) workflowEnded(queue, id string) string {
	return k.prefix + "queue:{" + queue + "}:wfended:" + id
}

// workflows is the index of the workflows whose home is queue, a sorted
// set of their IDs scored by creation time (µs), for their listing (see
// lua/list_workflows.lua; lua/lib/flow.lua adds to it).
func (k keys) workflows(queue string) string { return k.prefix + "queue:{" + queue + "}:workflows" }

// unique holds the ID of the task that holds a unique key, for its window.
func (k keys) unique(queue, key string) string {
	return k.prefix + "queue:{" + queue + "}:unique:" + key
}

// counts is a hash of a queue's outcomes in one minute (since 1970), kept
// for 25 hours (see Queue.Rates).
func (k keys) counts(queue string, minute int64) string {
	return k.prefix + "queue:{" + queue + "}:rate:" + strconv.FormatInt(minute, 10)
}

// channel is the one Pub/Sub channel of the backend: results and task
// states announce themselves on it, and workers hear of cancels.
func (k keys) channel() string { return k.prefix + "done" }

// Notices on the channel. Queue names have no braces, so "{<queue>}" ends
// unambiguously.
func resultNotice(queue, id string) string { return "r{" + queue + "}" + id }
func stateNotice(queue, id string) string  { return "t{" + queue + "}" + id }

// workflowNotice announces a workflow's end (lua/lib/flow.lua).
func workflowNotice(queue, id string) string { return "w{" + queue + "}" + id }

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
