package redisbackend

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/store"
)

// A record on Redis is one string, so that a write is a plain SET with its
// TTL, replacing the record whole: no script, no DEL, no PEXPIRE. Its format
// is "r1" and then, in order, the task, status, attempt, time (µs), kind,
// error and value, each as "<length>:<bytes>". The queue and ID are in
// the key.
const recordVersion = "r1"

func encodeRecord(rec *store.Record, at time.Time) string {
	var nums [2][20]byte
	attempt := strconv.AppendInt(nums[0][:0], int64(rec.Attempt), 10)
	atUs := strconv.AppendInt(nums[1][:0], at.UnixMicro(), 10)
	n := len(recordVersion) + len(rec.Task) + len(rec.Status) + len(attempt) + len(atUs) + len(rec.Kind) +
		len(rec.Error) + len(rec.Value) + 7*8
	b := make([]byte, 0, n)
	b = append(b, recordVersion...)
	b = appendNetstring(b, rec.Task)
	b = appendNetstring(b, rec.Status)
	b = appendNetstring(b, attempt)
	b = appendNetstring(b, atUs)
	b = appendNetstring(b, rec.Kind)
	b = appendNetstring(b, rec.Error)
	b = strconv.AppendInt(b, int64(len(rec.Value)), 10)
	b = append(b, ':')
	b = append(b, rec.Value...)
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
}

var errBadRecord = errors.New("malformed record")

func decodeRecord(s string) (*store.Record, error) {
	if len(s) < len(recordVersion) || s[:len(recordVersion)] != recordVersion {
		return nil, errBadRecord
	}
	s = s[len(recordVersion):]
	var f [7]string
	for i := range f {
		colon := 0
		for colon < len(s) && s[colon] != ':' {
			colon++
		}
		n, err := strconv.Atoi(s[:min(colon, len(s))])
		if err != nil || colon == len(s) || n < 0 || n > len(s)-colon-1 {
			return nil, errBadRecord
		}
		f[i], s = s[colon+1:colon+1+n], s[colon+1+n:]
	}
	rec := &store.Record{Task: f[0], Status: store.Status(f[1]), Kind: f[4], Error: f[5]}
	rec.Attempt, _ = strconv.Atoi(f[2])
	if us, err := strconv.ParseInt(f[3], 10, 64); err == nil {
		rec.At = time.UnixMicro(us)
	}
	if f[6] != "" {
		rec.Value = []byte(f[6])
	}
	return rec, nil
}

// A message on Redis is one string, its stream entry's only field, "m":
// "m1", then its attempt, deliveries, outages, last failure's kind and
// error, then its core: its ID, task, enqueue and expiry times (µs) and
// payload, each as "<length>:<bytes>". The client encodes the core; the
// scripts put the header in front (and change it: a takeover counts a
// delivery) and never read the core but for the ID, its first part. A
// delayed task's state keeps the core alone. One field is less for Redis
// to write, store and send, and for a Take to read, than six.
const messageVersion = "m1"

func encodeMessage(m *queue.Message) string {
	var nums [2][20]byte
	enq := strconv.AppendInt(nums[0][:0], micros(m.EnqueuedAt), 10)
	exp := strconv.AppendInt(nums[1][:0], micros(m.ExpiresAt), 10)
	b := make([]byte, 0, len(m.ID)+len(m.Task)+len(enq)+len(exp)+len(m.Payload)+5*8)
	b = appendNetstring(b, m.ID)
	b = appendNetstring(b, m.Task)
	b = appendNetstring(b, enq)
	b = appendNetstring(b, exp)
	b = appendNetstring(b, m.Payload)
	if len(m.Headers) > 0 {
		b = appendNetstring(b, encodeHeaders(m.Headers))
	}
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
}

func appendNetstring[S ~string | ~[]byte](b []byte, s S) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// netstring splits "<length>:<bytes><rest>".
func netstring(s string) (field, rest string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", "", false
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n < 0 || n > len(s)-i-1 {
		return "", "", false
	}
	return s[i+1 : i+1+n], s[i+1+n:], true
}

// encodeHeaders makes a message's headers one string: a netstring of each
// key and value, the keys sorted. An entry without headers ends after its
// payload; readers of entries written before headers ignore what follows
// it.
func encodeHeaders(h map[string]string) []byte {
	keys := slices.Sorted(maps.Keys(h))
	var b []byte
	for _, k := range keys {
		b = appendNetstring(b, k)
		b = appendNetstring(b, h[k])
	}
	return b
}

// decodeHeaders reads what encodeHeaders wrote.
func decodeHeaders(s string) (map[string]string, bool) {
	h := make(map[string]string)
	for s != "" {
		k, rest, ok := netstring(s)
		if !ok {
			return nil, false
		}
		v, rest, ok := netstring(rest)
		if !ok {
			return nil, false
		}
		h[k], s = v, rest
	}
	return h, true
}
