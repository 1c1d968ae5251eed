package taskwaretest_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/taskwaretest"
)

// A proxy that lets a command run and drops its reply shows what go-redis
// does then: it sends the command again. An INCR counts twice; taskware's
// calls answer as if they ran once (see FAULTS.md).
func ExampleProxy_DropReplies() {
	srv, _ := miniredis.Run()
	defer srv.Close()
	p, _ := taskwaretest.StartProxy(srv.Addr())
	defer p.Close()
	c := redis.NewClient(&redis.Options{Addr: p.Addr()})
	defer c.Close()

	p.DropReplies(1, func(cmd []string) bool { return cmd[0] == "incr" })
	n, err := c.Incr(context.Background(), "visits").Result()
	fmt.Println(n, err, p.Dropped())
	// Output: 2 <nil> 1
}
