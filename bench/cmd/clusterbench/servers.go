package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// servers are the redis-server processes this run started, stopped by
// stop.
type servers struct {
	dir   string
	procs []*exec.Cmd
}

// startNode starts a redis-server on addr's port, with no persistence, in
// a directory of its own, and waits (up to 10 s) until it answers. With
// cluster, it starts it as a Cluster node.
func (s *servers) startNode(addr string, cluster bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if err := free(addr); err != nil {
		return err
	}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "clusterbench-"); err != nil {
			return err
		}
	}
	dir := filepath.Join(s.dir, port)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	args := []string{"--port", port, "--bind", host, "--save", "", "--appendonly", "no", "--dir", dir}
	if cluster {
		if err := free(net.JoinHostPort(host, bus(port))); err != nil {
			return fmt.Errorf("the cluster bus of %s: %w", addr, err)
		}
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
	}
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server on %s: %w", addr, err)
	}
	s.procs = append(s.procs, cmd)
	return waitUntil(10*time.Second, func() bool {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		return c.Ping(context.Background()).Err() == nil
	}, "redis-server on "+addr+" to answer")
}

// createCluster joins the nodes at addrs, started by startNode, into a
// Cluster of as many masters and no replicas, and waits (up to 20 s) until
// every node says its state is ok.
func createCluster(addrs []string) error {
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out)
	}
	return waitUntil(20*time.Second, func() bool {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			info, err := c.ClusterInfo(context.Background()).Result()
			c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
		}
		return true
	}, "the cluster's state to be ok")
}

// stop stops each server it started by its PID: SIGTERM, then SIGKILL
// after 5 s; and removes their directories.
func (s *servers) stop() error {
	var errs []error
	for _, cmd := range s.procs {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			errs = append(errs, fmt.Errorf("redis-server %d did not stop on SIGTERM; killed", cmd.Process.Pid))
			_ = cmd.Process.Kill()
			<-done
		}
	}
	s.procs = nil
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// free fails if something listens on addr already: this run starts its
// servers only on ports of its own.
func free(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s is taken (%w): give ports that are free, or -start=false to use servers already there", addr, err)
	}
	return l.Close()
}

// bus returns the port of a Cluster node's bus: its port + 10000.
func bus(port string) string {
	p, _ := strconv.Atoi(port)
	return strconv.Itoa(p + 10000)
}

// waitUntil polls ok every 50 ms until it holds, or fails after limit.
func waitUntil(limit time.Duration, ok func() bool, what string) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}
