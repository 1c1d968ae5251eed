package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/web"
	"github.com/taskware/taskware/worker"
)

// New serves the web view; mount it under any prefix with
// http.StripPrefix, its links being relative. Here it shows a memory
// backend with two emails to send, one of them later.
func ExampleNew() {
	ctx := context.Background()
	b := memorybackend.New()
	email := task.New("email", func(ctx context.Context, to string) (string, error) { return "sent", nil })
	c := worker.NewClient(b.Queue(), b.Store())
	worker.Enqueue(ctx, c, email, "ada@example.com", worker.OnQueue("emails"))
	worker.Enqueue(ctx, c, email, "bob@example.com", worker.OnQueue("emails"), worker.Delay(time.Hour))

	mux := http.NewServeMux()
	mux.Handle("/admin/tasks/", http.StripPrefix("/admin/tasks", web.New(web.FromBackend(b), web.ReadOnly())))
	srv := httptest.NewServer(mux) // in a real server: http.ListenAndServe(addr, mux)
	defer srv.Close()

	res, _ := http.Get(srv.URL + "/admin/tasks/")
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Printf("%d %s\n", res.StatusCode, regexp.MustCompile(`<title>(.*)</title>`).FindSubmatch(page)[1])

	res, _ = http.Get(srv.URL + "/admin/tasks/api/overview")
	var overview struct {
		Queues []struct {
			Queue          string
			Ready, Delayed int
		}
	}
	json.NewDecoder(res.Body).Decode(&overview)
	res.Body.Close()
	fmt.Printf("%+v\n", overview.Queues)
	// Output:
	// 200 Overview · taskware
	// [{Queue:emails Ready:1 Delayed:1}]
}
