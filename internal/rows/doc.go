// Package rows is the one JSON shape of what taskware shows: a queue's
// counts, a task, a lock, a worker, a stored record and a queue's record
// counts, as the command line prints them with --json and the web view
// serves them under api/. Each row is a struct with its JSON tags and a
// constructor from what the contracts (queue.Admin, lock.Inspector,
// store.Store) return, so that the two can never drift apart.
//
// Times are UTC, in RFC 3339 with their fraction, and left out when
// unknown; durations are whole milliseconds in fields ending in _ms.
//
// It is internal: the JSON is the contract, not these types, which
// change as the command line and the web view need.
package rows
