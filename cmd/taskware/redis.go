package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// tlsOptions are the --tls-* flags. Any of them turns TLS on, with
// redis:// URLs too: whoever names a CA or a certificate means TLS, and
// would rather not find out that the URL quietly talked in clear.
type tlsOptions struct {
	CA         string // PEM bundle of the CAs to trust, instead of the system's
	Cert, Key  string // the client certificate and its key, in PEM
	ServerName string // the name the server's certificate must carry
}

func (t tlsOptions) set() bool { return t != tlsOptions{} }

// redisFlags binds the flags that say how to reach Redis, shared by every
// command that talks to it, to rawURL and t.
func redisFlags(fs *flag.FlagSet, rawURL *string, t *tlsOptions) {
	fs.StringVar(rawURL, "redis", "", "run on the Redis at this `URL` (redis://host:port/db, rediss:// for TLS) instead of an embedded miniredis")
	fs.StringVar(&t.CA, "tls-ca", "", "trust the CA certificates in this PEM `FILE` instead of the system's (any --tls-* flag turns TLS on)")
	fs.StringVar(&t.Cert, "tls-cert", "", "present the client certificate in this PEM `FILE`, with --tls-key")
	fs.StringVar(&t.Key, "tls-key", "", "the private key of --tls-cert, in this PEM `FILE`")
	fs.StringVar(&t.ServerName, "tls-server-name", "", "require the server's certificate to be for this `NAME` rather than the URL's host")
}

// connect returns a client of the Redis at rawURL, over TLS as t says, or
// of a new embedded miniredis if rawURL is "", a description of where it
// is, and a function that closes both. Every command connects with it. A
// bad URL or TLS flag is a usageError; no error holds the URL's password.
func connect(ctx context.Context, rawURL string, t tlsOptions) (*redis.Client, string, func(), error) {
	if rawURL == "" {
		if t.set() {
			return nil, "", nil, usageError{errors.New("the --tls-* flags need --redis")}
		}
		m, err := miniredis.Run()
		if err != nil {
			return nil, "", nil, fmt.Errorf("start miniredis: %w", err)
		}
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		return c, "an embedded miniredis", func() { c.Close(); m.Close() }, nil
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, "", nil, redact(usageError{fmt.Errorf("--redis: %w", err)}, rawURL)
	}
	if opt.TLSConfig, err = tlsConfig(opt, t); err != nil {
		return nil, "", nil, err
	}
	where := "the Redis at " + opt.Addr
	if opt.TLSConfig != nil {
		where += " (TLS)"
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, "", nil, redact(fmt.Errorf("redis at %s: %w", opt.Addr, err), rawURL)
	}
	return c, where, func() { c.Close() }, nil
}

// tlsConfig returns the TLS configuration of opt, parsed from a URL, with t
// applied: nil if neither asks for TLS. Files that do not load are a
// usageError.
func tlsConfig(opt *redis.Options, t tlsOptions) (*tls.Config, error) {
	if !t.set() {
		return opt.TLSConfig, nil // rediss:// alone: go-redis's, at least TLS 1.2
	}
	cfg := &tls.Config{}
	if opt.TLSConfig != nil {
		cfg = opt.TLSConfig.Clone() // keeps ?skip_verify=true
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	if host, _, err := net.SplitHostPort(opt.Addr); cfg.ServerName == "" && err == nil && opt.Network == "tcp" {
		cfg.ServerName = host // a redis:// URL turned to TLS
	}
	if t.ServerName != "" {
		cfg.ServerName = t.ServerName
	}
	if t.CA != "" {
		pool, err := loadCAs(t.CA)
		if err != nil {
			return nil, usageError{fmt.Errorf("--tls-ca: %w", err)}
		}
		cfg.RootCAs = pool
	}
	switch {
	case t.Cert != "" && t.Key != "":
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, usageError{fmt.Errorf("--tls-cert %s, --tls-key %s: %w", t.Cert, t.Key, err)}
		}
		cfg.Certificates = []tls.Certificate{cert}
	case t.Cert != "":
		return nil, usageError{errors.New("--tls-cert needs --tls-key")}
	case t.Key != "":
		return nil, usageError{errors.New("--tls-key needs --tls-cert")}
	}
	return cfg, nil
}

// loadCAs returns the certificates of the PEM file as a pool. Unlike
// x509.CertPool.AppendCertsFromPEM, it says which certificate does not
// parse, rather than skip it and leave the server unverifiable.
func loadCAs(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", file, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return pool, nil
}

// redacted stands for a password in what the CLI prints, as in
// url.URL.Redacted.
const redacted = "xxxxx"

// redact returns err with the passwords of rawURL hidden from its message,
// err itself if it shows none. The redacted error does not wrap err, whose
// message has them, but it stays a usageError if err is one.
func redact(err error, rawURL string) error {
	if err == nil || rawURL == "" {
		return err
	}
	msg := err.Error()
	clean := redactText(msg, rawURL)
	if clean == msg {
		return err
	}
	if _, ok := errors.AsType[usageError](err); ok {
		return usageError{errors.New(clean)}
	}
	return errors.New(clean)
}

// redactText returns text with rawURL, and any of its passwords on their
// own, hidden: rawURL as redactURL shows it, a password as "xxxxx".
func redactText(text, rawURL string) string {
	r := redactURL(rawURL)
	text = strings.ReplaceAll(text, rawURL, r)
	text = strings.ReplaceAll(text, quoted(rawURL), r) // url.Error quotes it
	for _, s := range urlSecrets(rawURL) {
		text = strings.ReplaceAll(text, s, redacted)
	}
	return text
}

// redactURL returns rawURL with its password replaced by "xxxxx", as
// url.URL.Redacted does, and so is the value of a "password" query
// parameter. Of a URL that does not parse, it hides everything between
// "://" and the last "@", the user name too: where the password ends is
// anyone's guess.
func redactURL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		if q := u.Query(); q.Has("password") {
			for i := range q["password"] {
				q["password"][i] = redacted
			}
			u.RawQuery = q.Encode()
		}
		return redactSecrets(u.Redacted(), rawURL)
	}
	if scheme, rest, ok := strings.Cut(rawURL, "://"); ok {
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			return redactSecrets(scheme+"://"+redacted+rest[i:], rawURL)
		}
	}
	return redactSecrets(rawURL, rawURL)
}

func redactSecrets(text, rawURL string) string {
	for _, s := range urlSecrets(rawURL) {
		text = strings.ReplaceAll(text, s, redacted)
	}
	return text
}

// urlSecrets returns the passwords in rawURL, as written, unescaped and
// quoted: the userinfo's (for a URL that does not parse, what follows the
// first ":" before the last "@"), and the value of any "password" query
// parameter.
func urlSecrets(rawURL string) []string {
	var out []string
	add := func(s string, unescape func(string) (string, error)) {
		if s == "" {
			return
		}
		out = append(out, s, quoted(s))
		if u, err := unescape(s); err == nil {
			out = append(out, u, quoted(u))
		}
	}
	keep := func(s string) (string, error) { return s, nil }
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		p, _ := u.User.Password()
		add(p, keep)
	}
	if _, rest, ok := strings.Cut(rawURL, "://"); ok {
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			_, p, _ := strings.Cut(rest[:i], ":")
			add(p, url.PathUnescape)
		}
	}
	if _, query, ok := strings.Cut(rawURL, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		for kv := range strings.SplitSeq(query, "&") {
			if k, v, _ := strings.Cut(kv, "="); strings.EqualFold(k, "password") {
				add(v, url.QueryUnescape)
			}
		}
	}
	return out
}

// quoted returns s as %q shows it, without the quotes.
func quoted(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
