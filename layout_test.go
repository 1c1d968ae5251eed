package taskware_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The layout the design asks for, checked on the import graph: only the
// Redis backend talks to Redis (the command line and the test kit aside),
// the concept packages and the conformance suites import no backend, and
// the executor imports no policy. (go list needs the go command: CI has it.)
func TestLayout(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/taskware/taskware"
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[strings.TrimPrefix(f[0], mod)] = f[1:]
	}
	imports := func(pkg, dep string) bool {
		for _, d := range deps[pkg] {
			if d == dep || strings.HasPrefix(d, dep+"/") {
				return true
			}
		}
		return false
	}
	for pkg := range deps {
		switch pkg {
		case "/redisbackend", "/taskwaretest", "/cmd/taskware":
			continue
		}
		if imports(pkg, "github.com/redis/go-redis") {
			t.Errorf("%s imports go-redis: only redisbackend may", mod+pkg)
		}
	}
	for _, concept := range []string{"/task", "/queue", "/lock", "/store", "/limit", "/worker", "/middleware", "/schedule", "/web"} {
		for _, backend := range []string{"/redisbackend", "/memorybackend", "/taskwaretest"} {
			if imports(concept, mod+backend) {
				t.Errorf("%s imports %s: concepts import no backend", mod+concept, mod+backend)
			}
		}
	}
	for _, backend := range []string{"/redisbackend", "/memorybackend"} {
		if imports(backend, mod+"/worker") {
			t.Errorf("%s imports worker: a backend knows the queue contract, not the executor", mod+backend)
		}
	}
	for _, backend := range []string{"/redisbackend", "/memorybackend", "/worker"} {
		if imports("/web", mod+backend) {
			t.Errorf("web imports %s: the web view reads the contracts only", mod+backend)
		}
	}
	for _, d := range deps["/queue"] { // task's own deps aside
		if d != mod+"/task" && !imports("/task", d) && strings.Contains(strings.Split(d, "/")[0], ".") {
			t.Errorf("queue imports %s: the contract imports only task and the standard library", d)
		}
	}
	// The conformance suites know the contracts only, so that any backend
	// can run them, and the executor's bugs cannot pass for a backend's.
	for _, suite := range []string{"/queue/queuetest", "/lock/locktest", "/store/storetest"} {
		if _, ok := deps[suite]; !ok {
			t.Errorf("%s is missing", mod+suite)
		}
		for _, dep := range []string{"/redisbackend", "/memorybackend", "/taskwaretest", "/worker", "/middleware"} {
			if imports(suite, mod+dep) {
				t.Errorf("%s imports %s: a conformance suite knows the contracts only", mod+suite, mod+dep)
			}
		}
	}
	if imports("/worker", mod+"/middleware") {
		t.Errorf("worker imports middleware: the executor knows no policy")
	}
	if !imports("/redisbackend", "github.com/redis/go-redis") || !imports("/worker", mod+"/queue") || !imports("/web", mod+"/queue") {
		t.Fatalf("the import graph lacks what it must have: %v", deps)
	}
}
