package taskwaretest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster starts a three-master Redis Cluster of its own, on free loopback
// ports, and returns a client of it; everything is stopped when t ends.
// Without redis-server and redis-cli it skips t, or fails it under
// TASKWARE_REQUIRE_REDIS=1.
func Cluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			if RequireRedis() {
				t.Fatalf("taskwaretest: %s not found and TASKWARE_REQUIRE_REDIS=1", bin)
			}
			t.Skipf("taskwaretest: %s not found", bin)
		}
	}
	dir := t.TempDir()
	var addrs []string
	for i := range 3 {
		nodeDir := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(nodeDir, 0o755); err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, startClusterNode(t, nodeDir))
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("taskwaretest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, a := range addrs {
			n := redis.NewClient(&redis.Options{Addr: a})
			info, err := n.ClusterInfo(ctx).Result()
			n.Close()
			if err != nil || !containsLine(info, "cluster_state:ok") {
				ok = false
			}
		}
		if ok && c.Ping(ctx).Err() == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal("taskwaretest: the cluster did not come up")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func containsLine(s, line string) bool {
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		if l := s[:i]; l == line || l == line+"\r" {
			return true
		}
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return false
}

// freeClusterPort returns a port free for a node and for its bus, port+10000.
func freeClusterPort(t testing.TB) int {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port+10000 > 65535 {
			continue
		}
		if bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+10000)); err == nil {
			bus.Close()
			return port
		}
	}
	t.Fatal("taskwaretest: no free port pair for a cluster node")
	return 0
}

// startClusterNode starts a cluster-enabled redis-server in dir on a free
// port pair and returns its address once it answers. A port another
// process took between the check and the start (suites run side by side
// pick ports at once) makes the server exit: it tries again on another.
func startClusterNode(t testing.TB, dir string) string {
	t.Helper()
	for try := 0; ; try++ {
		port := freeClusterPort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
			"--save", "", "--appendonly", "no", "--dir", dir)
		if err := cmd.Start(); err != nil {
			t.Fatalf("taskwaretest: start redis-server: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		if waitPing(addr, exited) {
			return addr
		}
		_ = cmd.Process.Kill()
		if try == 4 {
			t.Fatalf("taskwaretest: redis-server at %s does not answer (5 tries)", addr)
		}
	}
}

// waitPing reports whether the server at addr answers within 20 s (a busy
// machine starts it slowly), giving up at once if it exits.
func waitPing(addr string, exited <-chan struct{}) bool {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for range 400 {
		if c.Ping(context.Background()).Err() == nil {
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}
