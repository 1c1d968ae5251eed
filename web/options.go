package web

import (
	"crypto/sha256"
	"net/http"
	"time"
)

// Option configures the handler New returns.
type Option interface{ apply(*config) }

type config struct {
	readOnly  bool
	basic     bool
	user      [32]byte
	pass      [32]byte
	authorize func(*http.Request) bool
	refresh   time.Duration
	redact    func(string) string
	title     string
	timeout   time.Duration
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// ReadOnly turns the actions off: no button is shown, and every POST is
// refused with 403 Forbidden.
func ReadOnly() Option { return optionFunc(func(c *config) { c.readOnly = true }) }

// BasicAuth asks every request for HTTP basic authentication as user
// with password pass, and answers 401 Unauthorized to any other. Both are
// compared in constant time. Serve it over TLS: basic authentication
// sends the password in clear.
func BasicAuth(user, pass string) Option {
	return optionFunc(func(c *config) {
		c.basic = true
		c.user, c.pass = sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	})
}

// Authorize hands every request to fn, the host server's own check (a
// session, a role), before anything else is done but BasicAuth; a request
// it refuses is answered 403 Forbidden. fn may check r.Method to let
// some users look but not act.
func Authorize(fn func(r *http.Request) bool) Option {
	return optionFunc(func(c *config) { c.authorize = fn })
}

// Refresh sets how often a page polls for its numbers, 3s by default; 0
// or less turns polling off. The pages that read every record or every
// finished task (results, finished tasks) poll ten times less often, and
// every 30s at most.
func Refresh(d time.Duration) Option { return optionFunc(func(c *config) { c.refresh = d }) }

// Redact passes every error message shown, on a page or in JSON, through
// fn: the taskware command hides the Redis URL's password with it. No
// page shows a credential of the handler's own; an error of the backend
// is shown as it is, unless fn changes it.
func Redact(fn func(string) string) Option { return optionFunc(func(c *config) { c.redact = fn }) }

// Title sets the name shown in each page's title and header, "taskware"
// by default.
func Title(s string) Option { return optionFunc(func(c *config) { c.title = s }) }

// Timeout bounds the backend calls of one request, 10s by default.
func Timeout(d time.Duration) Option { return optionFunc(func(c *config) { c.timeout = d }) }
