package queue

import (
	"context"
	"time"
)

// Server is the side of a backend that describes the server it runs on,
// for operators: a web view's Redis page.
type Server interface {
	// ServerInfo describes the backend's server, and counts taskware's
	// keys on it by kind; or returns an error matching ErrNotSupported if
	// the backend has no server (it runs in-process).
	ServerInfo(ctx context.Context) (*ServerInfo, error)
}

// ServerInfo is what a backend's server says of itself, and what it holds
// of taskware's. Fields a server does not report are zero.
type ServerInfo struct {
	// Kind names the server's software ("redis"); Version and Mode
	// (standalone, cluster, sentinel) are as it reports them.
	Kind, Version, Mode string
	Uptime              time.Duration
	// Memory in bytes: used now, the peak, and the limit (0: none).
	UsedMemory, PeakMemory, MaxMemory int64
	// Clients counts the connections, OpsPerSec the commands a second.
	Clients, OpsPerSec int64
	// Keyspace is the server's databases, each with its keys.
	Keyspace []KeyspaceDB
	// Prefix is the backend's key prefix; Keys counts the keys under it by
	// kind ("stream", "delayed", "dead", "state", "result", "lock",
	// "rate", ...), as far as a bounded scan went: if Partial, more keys
	// exist than were counted.
	Prefix  string
	Keys    map[string]int64
	Partial bool
}

// KeyspaceDB is one database of a server.
type KeyspaceDB struct {
	DB            string
	Keys, Expires int64
}
