package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/web"
)

// defaultWebAddr is where `taskware web` listens unless --addr says: the
// loopback only, since the view can change the queues.
const defaultWebAddr = "127.0.0.1:8080"

// webOptions are the flags of the web command.
type webOptions struct {
	inspectOptions
	Addr      string
	ReadOnly  bool
	BasicAuth string
}

// webFlags returns the flags of the web command, bound to o.
func webFlags(o *webOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	redisFlags(fs, &o.RedisURL, &o.TLS)
	fs.Lookup("redis").Usage = "show the Redis at this `URL` (redis://host:port/db, rediss:// for TLS); default $TASKWARE_REDIS_URL, else " + defaultRedisURL
	fs.StringVar(&o.Prefix, "prefix", redisbackend.DefaultPrefix, "the key `PREFIX` of the backend to show")
	fs.StringVar(&o.Addr, "addr", defaultWebAddr, "listen on this `HOST:PORT`")
	fs.BoolVar(&o.ReadOnly, "read-only", false, "show, but offer and accept no action")
	fs.StringVar(&o.BasicAuth, "basic-auth", "", "ask for HTTP basic authentication as `USER:PASS`; default $TASKWARE_WEB_BASIC_AUTH")
	return fs
}

// runWeb serves the web view of a Redis until ctx ends.
func runWeb(ctx context.Context, args []string, out io.Writer) error {
	var o webOptions
	if err := parse(webFlags(&o), args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help(out, webDoc, webFlags(&webOptions{}))
			return nil
		}
		return err
	}
	o.BasicAuth = cmp.Or(o.BasicAuth, os.Getenv("TASKWARE_WEB_BASIC_AUTH"))
	err := serveWeb(ctx, &o, out)
	if err != nil && o.BasicAuth != "" {
		if _, pass, ok := strings.Cut(o.BasicAuth, ":"); ok && pass != "" {
			err = errors.New(strings.ReplaceAll(err.Error(), pass, redacted))
		}
	}
	return redact(err, o.RedisURL)
}

func serveWeb(ctx context.Context, o *webOptions, out io.Writer) error {
	opts := []web.Option{web.Redact(func(s string) string { return redactText(s, o.RedisURL) })}
	if o.ReadOnly {
		opts = append(opts, web.ReadOnly())
	}
	if o.BasicAuth != "" {
		user, pass, ok := strings.Cut(o.BasicAuth, ":")
		if !ok || user == "" || pass == "" {
			return usageError{errors.New("web: --basic-auth takes USER:PASS, both not empty")}
		}
		opts = append(opts, web.BasicAuth(user, pass))
	}
	in, err := open(ctx, &o.inspectOptions)
	if err != nil {
		return err
	}
	defer in.close()

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	srv := &http.Server{Handler: web.New(web.FromBackend(in.b), opts...), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	addr := ln.Addr().(*net.TCPAddr)
	what := ""
	if o.ReadOnly {
		what = ", read-only"
	}
	if o.BasicAuth != "" {
		what += ", with basic authentication"
	}
	fmt.Fprintf(out, "taskware web: serving %s (prefix %q%s) on http://%s/\n",
		redactText(redactURL(o.RedisURL), o.RedisURL), o.Prefix, what, addr)
	if !addr.IP.IsLoopback() && o.BasicAuth == "" {
		can := "see the queues and act on them"
		if o.ReadOnly {
			can = "see the queues"
		}
		fmt.Fprintf(out, "taskware web: warning: listening beyond the loopback without --basic-auth: whoever reaches this address can %s\n", can)
	}
	fmt.Fprintln(out, "taskware web: stop it with Ctrl-C")

	select {
	case err := <-done: // it stopped by itself
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
