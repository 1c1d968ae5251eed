package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/taskwaretest"
)

// aclCommands are the commands a restricted Redis user needs, as README.md
// ("A restricted Redis user") gives them: those redisbackend sends and its
// scripts call, and go-redis's PING. HELLO and AUTH need no right.
const aclCommands = "+ping +evalsha +eval +time +get +set +del +exists +pttl +pexpire +scan +publish +subscribe " +
	"+hset +hsetnx +hget +hmget +hgetall +hlen +hdel +hincrby +persist +zadd +zcard +zcount +zrange +zrangebyscore +zrank +zrem +zremrangebyscore +zscore +sadd +smembers " +
	"+xadd +xread +xreadgroup +xrange +xrevrange +xlen +xack +xdel +xtrim +xclaim +xautoclaim +xpending " +
	"+xgroup|create +xgroup|delconsumer +xinfo|consumers +xinfo|groups"

// setInfo is the right go-redis wants on Redis 7.2 and later, which know
// CLIENT SETINFO: it sends it on connect and ignores a refusal, but the
// refusal lands in the ACL LOG.
const setInfo = "+client|setinfo"

func TestACLDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{aclCommands, setInfo} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md does not give the ACL rules the test checks: %q", want)
		}
	}
}

// TestACL runs the demo, and the backend calls it may not make, as a
// throwaway Redis user with only the rights README.md documents, and checks
// that Redis refused it nothing.
func TestACL(t *testing.T) {
	admin, prefix := taskwaretest.Redis(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	name, password := "taskware-acl-test-"+strings.ToLower(rand.Text()[:10]), rand.Text()
	rules := []string{"reset", "on", ">" + password, "~" + prefix + "*", "&" + prefix + "*"}
	rules = append(rules, strings.Fields(aclCommands)...)
	if knows(ctx, t, admin, "client|setinfo") {
		rules = append(rules, setInfo)
	}
	t.Cleanup(func() {
		if err := admin.ACLDelUser(context.WithoutCancel(ctx), name).Err(); err != nil {
			t.Errorf("ACL DELUSER %s: %v", name, err)
		}
	})
	if err := admin.ACLSetUser(ctx, name, rules...).Err(); err != nil {
		if taskwaretest.RequireRedis() {
			t.Fatalf("ACL SETUSER: %v", err)
		}
		t.Skipf("cannot make a Redis user (%v)", err)
	}
	u, err := url.Parse(taskwaretest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(name, password)
	userURL := u.String()

	t.Run("demo", func(t *testing.T) {
		// testTasks has closed accounts: their tasks end dead-lettered.
		var out bytes.Buffer
		sum, err := demo(ctx, demoOptions{RedisURL: userURL, Prefix: prefix + "demo:", Tasks: testTasks}, &out)
		if err != nil {
			t.Fatalf("demo as %s: %v\n%s", name, err, out.String())
		}
		checkSummary(t, sum, out.String())
	})

	t.Run("backend", func(t *testing.T) {
		opt, err := redis.ParseURL(userURL)
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(opt)
		defer c.Close()
		exerciseBackend(ctx, t, redisbackend.New(c, redisbackend.Prefix(prefix+"backend:")))
	})

	t.Run("inspect", func(t *testing.T) {
		// Every inspection command as the restricted user, on a queue
		// with a ready, a running, a delayed and a dead task, and a
		// record, set up by the admin.
		p := prefix + "inspect:"
		b := redisbackend.New(admin, redisbackend.Prefix(p))
		q := b.Queue()
		for i, id := range []string{"now", "run", "dead", "later"} {
			var at time.Time
			if id == "later" {
				at = time.Now().Add(time.Hour)
			}
			m := &queue.Message{ID: id, Task: "t", Queue: "acl", Payload: []byte("{}"), EnqueuedAt: time.Now(), Attempt: 1}
			if err := q.Enqueue(ctx, m, at); err != nil {
				t.Fatal(err)
			}
			if id == "run" || id == "dead" {
				ds, err := q.Take(ctx, "acl", "c"+strconv.Itoa(i), 1, 0)
				if err != nil || len(ds) != 1 {
					t.Fatalf("Take = %d, %v", len(ds), err)
				}
				if id == "dead" {
					if err := q.Finish(ctx, ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if err := b.Store().Put(ctx, &store.Record{Queue: "acl", ID: "now", Task: "t", Status: store.Succeeded, Attempt: 1}, time.Minute); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"queues"}, {"workers"}, {"locks", "list"},
			{"tasks", "--queue", "acl", "--state", "ready"}, {"tasks", "--queue", "acl", "--state", "running"},
			{"tasks", "--queue", "acl", "--state", "delayed"}, {"tasks", "--queue", "acl", "--state", "dead"},
			{"tasks", "--queue", "acl", "--state", "finished"}, {"task", "now", "--queue", "acl"}, {"task", "now"},
			{"tasks", "--queue", "acl", "--state", "ready", "--search", "no", "--since", "1h", "--limit", "1"},
			{"tasks", "--queue", "acl", "--state", "finished", "--status", "dead", "--kind", "k", "--task", "t"},
			{"results", "list"}, {"results", "stats"}, {"dead", "list"},
			{"dead", "requeue", "--queue", "acl"}, {"dead", "purge", "--queue", "acl"}, {"results", "purge"},
			{"pause", "acl"}, {"resume", "acl"},
		} {
			var out bytes.Buffer
			if err := run(ctx, append(args, "--redis", userURL, "--prefix", p), &out, io.Discard); err != nil {
				t.Errorf("taskware %s as %s: %v\n%s", strings.Join(args, " "), name, err, out.String())
			}
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		u.User = url.UserPassword(name, "wrong-"+password)
		var out, stderr bytes.Buffer
		err := run(ctx, []string{"demo", "--redis", u.String()}, &out, io.Discard)
		if code := exitCode(err, &stderr); code != 1 || !strings.Contains(stderr.String(), "WRONGPASS") {
			t.Errorf("exit %d, stderr %q; want 1 and WRONGPASS", code, stderr.String())
		}
		if strings.Contains(stderr.String()+out.String(), password) {
			t.Errorf("the password shows:\n%s%s", out.String(), stderr.String())
		}
	})

	logs, err := admin.ACLLog(ctx, 128).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range logs {
		if e.Username == name && e.Reason != "auth" {
			t.Errorf("Redis refused %s: %s %q (%s)", name, e.Reason, e.Object, e.Context)
		}
	}
}

// knows reports whether Redis knows the command, "container|sub" for a
// subcommand.
func knows(ctx context.Context, t *testing.T, c *redis.Client, cmd string) bool {
	t.Helper()
	res, err := c.Do(ctx, "COMMAND", "INFO", cmd).Slice()
	if err != nil {
		t.Fatalf("COMMAND INFO %s: %v", cmd, err)
	}
	return len(res) == 1 && res[0] != nil
}

// exerciseBackend makes the backend calls a short demo may not: a duplicate
// enqueue, a task's claim extended and taken over, a requeue after an
// outage, dead letters read, a lock renewed and broken, a record deleted.
func exerciseBackend(ctx context.Context, t *testing.T, b *redisbackend.Backend) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	q, l, s := b.Queue(), b.Locker(), b.Store()
	const qn = "acl"
	msg := func(id string) *queue.Message {
		return &queue.Message{ID: id, Task: "t", Queue: qn, Payload: []byte("{}"), EnqueuedAt: time.Now(), Attempt: 1}
	}
	must(q.Enqueue(ctx, msg("now"), time.Time{}))
	must(q.Enqueue(ctx, msg("later"), time.Now().Add(time.Millisecond)))
	if err := q.Enqueue(ctx, msg("now"), time.Time{}); err == nil {
		t.Errorf("enqueued %q twice", "now")
	} else if _, ok := errors.AsType[*queue.DuplicateError](err); !ok {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := q.Promote(ctx, qn, time.Now(), 10); err != nil {
		t.Fatal(err)
	}
	ds, err := q.Take(ctx, qn, "c1", 10, 0)
	must(err)
	if len(ds) != 2 {
		t.Fatalf("took %d deliveries, want 2", len(ds))
	}
	_, err = q.Extend(ctx, qn, "c1", ds)
	must(err)
	time.Sleep(5 * time.Millisecond)
	n, err := q.Recover(ctx, qn, time.Millisecond, 10) // c1 "died"
	must(err)
	if n != 2 {
		t.Fatalf("recovered %d deliveries, want 2", n)
	}
	ds, err = q.Take(ctx, qn, "c2", 10, 10*time.Millisecond)
	must(err)
	if len(ds) != 2 {
		t.Fatalf("took %d deliveries again, want 2", len(ds))
	}
	must(q.Finish(ctx, ds[0], queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now(), Kind: "k", Error: "e", Retry: true, Outage: true}))
	must(q.Finish(ctx, ds[1], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"}))
	must(q.Leave(ctx, qn, "c2"))
	dead, err := q.DeadLetters(ctx, qn, 10)
	must(err)
	if len(dead) != 1 {
		t.Errorf("%d dead letters, want 1", len(dead))
	}
	if _, err := q.State(ctx, qn, ds[1].ID); err != nil {
		t.Error(err)
	}

	exerciseWorkflows(ctx, t, q)

	lease, err := l.TryAcquire(ctx, "k", time.Minute)
	must(err)
	must(l.Refresh(ctx, lease, 2*time.Minute))
	if _, err := l.Held(ctx); err != nil {
		t.Error(err)
	}
	must(l.Release(ctx, lease))
	must(l.Break(ctx, "k"))

	must(s.Put(ctx, &store.Record{Queue: qn, ID: "r", Task: "t", Status: store.Succeeded, Attempt: 1}, time.Minute))
	if _, err := s.Wait(ctx, qn, "r"); err != nil {
		t.Error(err)
	}
	if _, err := s.List(ctx); err != nil {
		t.Error(err)
	}
	must(s.Delete(ctx, qn, "r"))
	if _, err := b.Purge(ctx); err != nil {
		t.Error(err)
	}
}

// exerciseWorkflows makes the workflow calls: an enqueue, a fan-in
// released, a failure, its retry, a wait, a step's cancel and a
// workflow's.
func exerciseWorkflows(ctx context.Context, t *testing.T, q *redisbackend.Queue) {
	t.Helper()
	const qn = "acl-wf"
	spec := func(id string) *queue.WorkflowSpec {
		wf := &queue.WorkflowSpec{ID: id, Name: "acl", Queue: qn, Digest: "d"}
		for _, name := range []string{"a", "b", "j"} {
			s := &queue.Step{Workflow: id, Home: qn, Name: name, Output: name == "j"}
			if name == "j" {
				s.Parents = []queue.StepRef{{Queue: qn, Name: "a"}, {Queue: qn, Name: "b"}}
			} else {
				s.Children = []queue.StepRef{{Queue: qn, Name: "j"}}
			}
			wf.Steps = append(wf.Steps, &queue.Message{ID: queue.StepID(id, name), Task: "t", Queue: qn, Payload: []byte("{}"), Step: s})
		}
		return wf
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	take := func(n int) []*queue.Delivery {
		t.Helper()
		ds, err := q.Take(ctx, qn, "c1", 10, 0)
		must(err)
		if len(ds) != n {
			t.Fatalf("took %d steps, want %d", len(ds), n)
		}
		return ds
	}
	ok := queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("1")}
	must(q.EnqueueWorkflow(ctx, spec("w1"), time.Time{}))
	ds := take(2)
	must(q.Finish(ctx, ds[0], ok))
	must(q.Finish(ctx, ds[1], queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k", Error: "e"}))
	_, err := q.Workflow(ctx, qn, "w1")
	must(err)
	must(q.RetryStep(ctx, qn, "w1", strings.TrimPrefix(ds[1].ID, "w1:")))
	must(q.Finish(ctx, take(1)[0], ok))
	must(q.Finish(ctx, take(1)[0], ok))
	if w, err := q.WaitWorkflow(ctx, qn, "w1"); err != nil || w.Status != queue.Succeeded {
		t.Fatalf("WaitWorkflow = %+v, %v; want it succeeded", w, err)
	}
	must(q.EnqueueWorkflow(ctx, spec("w2"), time.Time{}))
	if _, err := q.Cancel(ctx, qn, "w2:j"); err != nil {
		t.Fatal(err)
	}
	must(q.EnqueueWorkflow(ctx, spec("w3"), time.Time{}))
	if _, err := q.CancelWorkflow(ctx, qn, "w3"); err != nil {
		t.Fatal(err)
	}
}
