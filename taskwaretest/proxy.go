package taskwaretest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proxy is a loopback TCP proxy between Redis clients and a Redis server,
// for fault tests: it can cut every connection, stall them, and let a
// command run on the server while dropping its reply, as a network that
// fails at the worst moment does. Point a client at Addr.
type Proxy struct {
	target string
	ln     net.Listener

	mu      sync.Mutex
	conns   map[*proxyConn]struct{}
	gate    chan struct{} // closed while traffic flows; open (nil reads block) while stalled
	drops   []*dropRule
	dropped int
	stopped bool
	wg      sync.WaitGroup
}

type dropRule struct {
	match func(cmd []string) bool
	left  int
}

// proxyConn is one client connection and its connection to the server.
type proxyConn struct {
	client, server net.Conn
	// dropping is set once a command whose reply is to be dropped was
	// forwarded: the server's next bytes are swallowed and both sides closed.
	mu       sync.Mutex
	dropping bool
}

// NewProxy starts a proxy to target ("host:port") on a free loopback port;
// it stops when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := StartProxy(target)
	if err != nil {
		t.Fatalf("taskwaretest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// StartProxy starts a proxy to target on a free loopback port, outside a
// test (a benchmark, an example); Close stops it.
func StartProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{target: target, ln: ln, conns: make(map[*proxyConn]struct{}), gate: make(chan struct{})}
	close(p.gate)
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the address clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	p.resumeLocked()
	p.mu.Unlock()
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

// Cut closes every open connection at once; new ones are accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Stall stops all traffic, both ways, until Resume: bytes wait in the
// proxy, as on a partitioned network. Connections stay open.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default: // already stalled
	}
}

// Resume lets stalled traffic through.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resumeLocked()
}

func (p *Proxy) resumeLocked() {
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// StallFor stalls all traffic for d, then resumes it.
func (p *Proxy) StallFor(d time.Duration) {
	p.Stall()
	time.AfterFunc(d, p.Resume)
}

// DropReplies lets the next n commands for which match returns true reach
// the server, and drops their replies: the proxy swallows what the server
// answers and closes the connection, so the client sees it break after the
// server ran the command. match gets the command's words, the name first
// in lower case ("evalsha", "<sha>", "1", "key", ...). Pipelined commands
// around it lose their replies too.
func (p *Proxy) DropReplies(n int, match func(cmd []string) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drops = append(p.drops, &dropRule{match: match, left: n})
}

// dropFor reports whether cmd's reply is to be dropped, counting it.
func (p *Proxy) dropFor(cmd []string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.drops {
		if r.left > 0 && r.match(cmd) {
			r.left--
			p.dropped++
			return true
		}
	}
	return false
}

// Dropped counts the replies dropped so far, so that a test can tell that
// its faults happened.
func (p *Proxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// gateOpen blocks while the proxy is stalled.
func (p *Proxy) gateOpen() {
	p.mu.Lock()
	g := p.gate
	p.mu.Unlock()
	<-g
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			c.close()
			return
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.upstream(c) })
		p.wg.Go(func() { p.downstream(c) })
	}
}

func (c *proxyConn) close() {
	c.client.Close()
	c.server.Close()
}

func (p *Proxy) forget(c *proxyConn) {
	c.close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// upstream forwards the client's commands to the server, one at a time,
// reading each as a RESP array so that it can be matched.
func (p *Proxy) upstream(c *proxyConn) {
	defer p.forget(c)
	r := bufio.NewReader(c.client)
	for {
		raw, words, err := readCommand(r)
		if err != nil {
			return
		}
		p.gateOpen()
		if p.dropFor(words) {
			c.mu.Lock()
			c.dropping = true
			c.mu.Unlock()
		}
		if _, err := c.server.Write(raw); err != nil {
			return
		}
	}
}

// downstream forwards the server's replies to the client, unless a reply
// is to be dropped: then it waits for the server to answer, swallows the
// answer, and closes the connection.
func (p *Proxy) downstream(c *proxyConn) {
	defer p.forget(c)
	buf := make([]byte, 32<<10)
	for {
		n, err := c.server.Read(buf)
		if n > 0 {
			p.gateOpen()
			c.mu.Lock()
			drop := c.dropping
			c.mu.Unlock()
			if drop {
				return // the server ran it; its reply goes nowhere
			}
			if _, werr := c.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// readCommand reads one client command: a RESP array of bulk strings (or
// an inline command). It returns the raw bytes, to forward unchanged, and
// the words, the first in lower case.
func readCommand(r *bufio.Reader) (raw []byte, words []string, err error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, nil, err
	}
	raw = append(raw, line...)
	if !strings.HasPrefix(line, "*") {
		words = strings.Fields(line)
		if len(words) > 0 {
			words[0] = strings.ToLower(words[0])
		}
		return raw, words, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, nil, errors.New("proxy: bad command")
	}
	words = make([]string, 0, n)
	for range n {
		hdr, err := r.ReadString('\n')
		if err != nil {
			return nil, nil, err
		}
		raw = append(raw, hdr...)
		if !strings.HasPrefix(hdr, "$") {
			return nil, nil, errors.New("proxy: bad command")
		}
		size, err := strconv.Atoi(strings.TrimSpace(hdr[1:]))
		if err != nil || size < 0 {
			return nil, nil, errors.New("proxy: bad command")
		}
		body := make([]byte, size+2)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, nil, err
		}
		raw = append(raw, body...)
		words = append(words, string(body[:size]))
	}
	if len(words) > 0 {
		words[0] = strings.ToLower(words[0])
	}
	return raw, words, nil
}
