// Package faults is taskware's fault suite: tests, and no code to import.
//
// Each test runs a workload against a real Redis through a loopback proxy
// (taskwaretest.Proxy) that cuts connections, stalls them, or lets a
// command run and drops its reply, or against a redis-server of its own
// that it kills and restarts with its append-only file, and prints a
// figure that the promises of FAULTS.md rest on:
//
//	go test -count=1 -v -run Fault ./faults/ | grep FIGURE
//
// Each numbered point of FAULTS.md also has a table-driven test here
// (TestPoint...). The tests skip without Redis, and fail without one under
// TASKWARE_REQUIRE_REDIS=1.
package faults
