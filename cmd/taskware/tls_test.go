package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConnectTLS connects over TLS to a stand-in Redis that answers PING,
// with certificates made for the test.
func TestConnectTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "taskware test CA")
	other := newCA(t, "some other CA")
	caFile := writeFile(t, dir, "ca.pem", ca.certPEM)
	serverCert := ca.issue(t, "redis.test", false)
	clientCert, clientKey := ca.issue(t, "worker", true).files(t, dir, "client")
	strangerCert, strangerKey := other.issue(t, "stranger", true).files(t, dir, "stranger")

	plain := startRESP(t, &tls.Config{Certificates: []tls.Certificate{serverCert.pair}})
	mutual := startRESP(t, &tls.Config{Certificates: []tls.Certificate{serverCert.pair},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool()})

	for _, tc := range []struct {
		name    string
		url     string
		tls     tlsOptions
		wantErr string // "" if the connection must succeed
	}{
		{"rediss with the CA", "rediss://" + plain.addr + "/0", tlsOptions{CA: caFile}, ""},
		{"redis with the CA turns TLS on", "redis://" + plain.addr + "/0", tlsOptions{CA: caFile}, ""},
		{"rediss without the CA", "rediss://" + plain.addr + "/0", tlsOptions{}, "x509: certificate signed by unknown authority"},
		{"the CA of another", "rediss://" + plain.addr + "/0", tlsOptions{CA: writeFile(t, dir, "other.pem", other.certPEM)},
			"x509: certificate signed by unknown authority"},
		{"the certificate's name", "rediss://" + plain.addr + "/0", tlsOptions{CA: caFile, ServerName: "redis.test"}, ""},
		{"another name", "rediss://" + plain.addr + "/0", tlsOptions{CA: caFile, ServerName: "other.test"},
			"x509: certificate is valid for redis.test, not other.test"},
		{"client certificate", "rediss://" + mutual.addr + "/0", tlsOptions{CA: caFile, Cert: clientCert, Key: clientKey}, ""},
		{"no client certificate", "rediss://" + mutual.addr + "/0", tlsOptions{CA: caFile}, "certificate required"},
		{"client certificate of another CA", "rediss://" + mutual.addr + "/0",
			tlsOptions{CA: caFile, Cert: strangerCert, Key: strangerKey}, "remote error: tls:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			c, where, closeAll, err := connect(ctx, tc.url, tc.tls)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer closeAll()
				if c.Options().TLSConfig == nil || c.Options().TLSConfig.MinVersion < tls.VersionTLS12 || !strings.HasSuffix(where, "(TLS)") {
					t.Errorf("connected to %s with TLS config %+v, want TLS 1.2 at least", where, c.Options().TLSConfig)
				}
				return
			}
			if err == nil {
				closeAll()
				t.Fatalf("connect succeeded, want an error with %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("connect: %v, want an error with %q", err, tc.wantErr)
			}
			if _, ok := errors.AsType[usageError](err); ok {
				t.Errorf("connect: %v is a usage error", err)
			}
		})
	}

	// What go-redis sends on connect: HELLO, which the stand-in refuses, so
	// that it falls back to RESP2; CLIENT SETINFO; then the PING.
	want := []string{"HELLO", "CLIENT SETINFO", "CLIENT SETINFO", "PING"}
	if got := plain.commands(); len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Errorf("the server saw %q, want %q first", got, want)
	}

	// Through the command line, a TLS failure is a failure, not a usage error.
	var out, stderr bytes.Buffer
	err := run(t.Context(), []string{"demo", "--redis", "rediss://" + plain.addr + "/0"}, &out, io.Discard)
	if code := exitCode(err, &stderr); code != 1 || !strings.Contains(stderr.String(), "x509") {
		t.Errorf("without --tls-ca: exit %d, stderr %q; want 1 and the x509 error", code, stderr.String())
	}
}

// TestRunRejectsBadTLSFiles checks that TLS files that do not load are
// usage errors that name the flag, found before any connection.
func TestRunRejectsBadTLSFiles(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "taskware test CA")
	cert, key := ca.issue(t, "worker", true).files(t, dir, "client")
	_, otherKey := ca.issue(t, "other", true).files(t, dir, "other")
	junk := writeFile(t, dir, "junk.pem", []byte("not PEM at all\n"))
	badCert := writeFile(t, dir, "bad-cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")}))
	twoCerts := writeFile(t, dir, "two.pem", append(append([]byte{}, ca.certPEM...),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")})...))
	missing := filepath.Join(dir, "missing.pem")
	const url = "rediss://127.0.0.1:1/0" // never dialled

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing CA file", []string{"--tls-ca", missing}, "--tls-ca: open " + missing},
		{"CA file without PEM", []string{"--tls-ca", junk}, "--tls-ca: " + junk + ": no PEM certificate in it"},
		{"CA that does not parse", []string{"--tls-ca", badCert}, "--tls-ca: " + badCert + ": certificate 1: x509:"},
		{"second CA does not parse", []string{"--tls-ca", twoCerts}, "--tls-ca: " + twoCerts + ": certificate 2: x509:"},
		{"cert without key", []string{"--tls-cert", cert}, "--tls-cert needs --tls-key"},
		{"key without cert", []string{"--tls-key", key}, "--tls-key needs --tls-cert"},
		{"missing cert", []string{"--tls-cert", missing, "--tls-key", key}, "--tls-cert " + missing + ", --tls-key " + key + ": open " + missing},
		{"key of another cert", []string{"--tls-cert", cert, "--tls-key", otherKey}, "private key does not match public key"},
		{"key that is no key", []string{"--tls-cert", cert, "--tls-key", junk}, "--tls-key " + junk + ": tls: failed to find any PEM data"},
		{"cert that is the key", []string{"--tls-cert", key, "--tls-key", key}, "--tls-cert " + key},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, stderr bytes.Buffer
			err := run(t.Context(), append([]string{"demo", "--redis", url}, tc.args...), &out, io.Discard)
			if code := exitCode(err, &stderr); code != 2 {
				t.Errorf("exit code %d, want 2 (error: %v)", code, err)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
			if bytes.Contains(stderr.Bytes(), []byte("PRIVATE KEY")) {
				t.Errorf("stderr shows a key:\n%s", stderr.String())
			}
		})
	}

	t.Run("without --redis", func(t *testing.T) {
		var out bytes.Buffer
		err := run(t.Context(), []string{"demo", "--tls-ca", cert}, &out, io.Discard)
		if _, ok := errors.AsType[usageError](err); !ok || !strings.Contains(err.Error(), "need --redis") {
			t.Errorf("run = %v, want a usage error: the --tls-* flags need --redis", err)
		}
	})
}

// testCA is a certificate authority made for a test.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issued is a certificate and its key, as PEM and as a pair for a server.
type issued struct {
	certPEM, keyPEM []byte
	pair            tls.Certificate
}

// issue returns a certificate for a client, or for a server called name
// that listens on 127.0.0.1 too.
func (ca *testCA) issue(t *testing.T, name string, client bool) issued {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if client {
		tmpl.ExtKeyUsage, tmpl.DNSNames, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	is := issued{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	if is.pair, err = tls.X509KeyPair(is.certPEM, is.keyPEM); err != nil {
		t.Fatal(err)
	}
	return is
}

// files writes the certificate and key into dir, and returns their paths.
func (is issued) files(t *testing.T, dir, name string) (cert, key string) {
	return writeFile(t, dir, name+".pem", is.certPEM), writeFile(t, dir, name+"-key.pem", is.keyPEM)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// respServer is a stand-in Redis over TLS that knows one command: it
// answers PING with PONG, and anything else, HELLO included, with an
// error, as a Redis older than 6 would.
type respServer struct {
	addr string
	ln   net.Listener

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	seen  []string // the names of the commands received
	wg    sync.WaitGroup
}

// ioTimeout bounds every read and write of the stand-in.
const ioTimeout = 5 * time.Second

// startRESP starts a respServer on 127.0.0.1 with cfg; it stops, and its
// connections close, when t ends.
func startRESP(t *testing.T, cfg *tls.Config) *respServer {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &respServer{addr: ln.Addr().String(), ln: ln, conns: make(map[net.Conn]struct{})}
	s.wg.Go(s.accept)
	t.Cleanup(s.close)
	return s
}

func (s *respServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.conns == nil { // closing
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() { s.serve(c) })
	}
}

func (s *respServer) serve(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	r := bufio.NewReader(c)
	for {
		if err := c.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
			return
		}
		args, err := readCommand(r)
		if err != nil {
			return // the client left, or its handshake failed
		}
		name := strings.ToUpper(args[0])
		if name == "CLIENT" && len(args) > 1 {
			name += " " + strings.ToUpper(args[1])
		}
		s.mu.Lock()
		s.seen = append(s.seen, name)
		s.mu.Unlock()
		reply := "-ERR unknown command '" + args[0] + "'\r\n"
		if name == "PING" {
			reply = "+PONG\r\n"
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}

// readCommand reads a command as clients send them: an array of bulk
// strings.
func readCommand(r *bufio.Reader) ([]string, error) {
	n, err := readHeader(r, '*')
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 64 {
		return nil, fmt.Errorf("command of %d arguments", n)
	}
	args := make([]string, n)
	for i := range args {
		size, err := readHeader(r, '$')
		if err != nil {
			return nil, err
		}
		if size < 0 || size > 1<<16 {
			return nil, fmt.Errorf("argument of %d bytes", size)
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args[i] = string(buf[:size])
	}
	return args, nil
}

// readHeader reads a line "<kind><n>\r\n", and returns n.
func readHeader(r *bufio.Reader, kind byte) (int, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if len(line) < 2 || line[0] != kind {
		return 0, fmt.Errorf("want %c, got %q", kind, line)
	}
	return strconv.Atoi(line[1:])
}

func (s *respServer) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func (s *respServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
}
