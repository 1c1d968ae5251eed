// Package taskwaretest helps test code that uses taskware: chains of
// policies, tasks, and what they leave in locks and the result store.
//
// A [Backend] is a locker, a result store and a queue made fresh for one
// test, on memory, on an embedded miniredis, or on a real Redis under a key
// prefix of the test's own, with a clock the test can move:
//
//	b := taskwaretest.NewMiniredis(t)
//	report := task.New("report", build,
//		middleware.StoreResult(b.Store), middleware.Expires(time.Minute),
//		middleware.SkipLocked(), middleware.WithLock(b.Locker, "report"))
//	b.Advance(2 * time.Minute) // TTLs run out, runs enqueued now expire
//	_, err := taskwaretest.Run(t, b, report, "2026-11-25", taskwaretest.ID("r1"))
//	taskwaretest.RequireOutcome(t, err, "skipped: middleware.expired")
//	b.RequireNoLocks(t)
//
// [Each] runs a test over every backend; [Run] runs a task through its
// chain synchronously, on the backend's clock.
//
// The real Redis is TASKWARE_REDIS_URL (redis://127.0.0.1:6379/0 by
// default). Each test gets its own key prefix and deletes only its own keys;
// nothing calls FLUSHALL, because the server may be shared. Without a
// reachable Redis the real-Redis backend skips its test, unless
// TASKWARE_REQUIRE_REDIS=1: then it fails it.
package taskwaretest
