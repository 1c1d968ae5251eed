package redisbackend

import (
	"errors"
	"fmt"
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
// error, then its core: its ID, task, enqueue and expiry times and
// payload, and its headers if it has any, each as "<length>:<bytes>". A
// time is in µs since 1970 (negative before), or empty for the zero time.
// The client encodes the core; the scripts put the header in front (and
// change it: a takeover counts a delivery) and never read the core but for
// the ID and task, its first parts (see lua/lib/entry.lua). A delayed
// task's state keeps the core alone. One field is less for Redis to
// write, store and send, and for a Take to read, than six.
const messageVersion = "m1"

func encodeMessage(m *queue.Message) string {
	var nums [2][20]byte
	enq := appendTime(nums[0][:0], m.EnqueuedAt)
	exp := appendTime(nums[1][:0], m.ExpiresAt)
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

// appendTime appends t in µs since 1970, or nothing for the zero time.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return strconv.AppendInt(b, t.UnixMicro(), 10)
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
// key and value, the keys sorted.
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

// entryParser reads a stream entry into a delivery, and says in Malformed
// what it cannot read: an entry written by something other than taskware,
// say.
type entryParser struct{ bad []string }

// fields reads an entry's fields: its message, "m", and the "attempt" a
// dead letter adds beside it, which wins over the message's header.
func (p *entryParser) fields(d *queue.Delivery, f map[string]string) {
	m, ok := f["m"]
	if !ok {
		p.bad = append(p.bad, "no message")
		return
	}
	p.message(d, m)
	if a, ok := f["attempt"]; ok {
		d.Attempt = int(p.num("attempt", a, 1))
	}
}

// message reads an entry's "m" (see encodeMessage).
func (p *entryParser) message(d *queue.Delivery, m string) {
	if len(m) < len(messageVersion) || m[:len(messageVersion)] != messageVersion {
		p.bad = append(p.bad, "message of an unknown version")
		return
	}
	var f [10]string
	rest, ok := m[len(messageVersion):], true
	for i := range f {
		if f[i], rest, ok = netstring(rest); !ok {
			p.bad = append(p.bad, "unreadable message")
			return
		}
	}
	d.Attempt = int(p.num("attempt", f[0], 1))
	d.Deliveries, d.Outages = int(p.num("dlv", f[1], 1)), int(p.num("out", f[2], 0))
	d.LastKind, d.LastError = f[3], f[4]
	d.ID, d.Task, d.Payload = f[5], f[6], payload(f[9])
	d.EnqueuedAt, d.ExpiresAt = p.time("enq", f[7]), p.time("exp", f[8])
	if d.ID == "" {
		p.bad = append(p.bad, "no id")
	}
	if d.Task == "" {
		p.bad = append(p.bad, "no task")
	}
	if rest != "" { // the headers
		hs, _, ok := netstring(rest)
		if ok {
			d.Headers, ok = decodeHeaders(hs)
		}
		if !ok {
			p.bad = append(p.bad, "unreadable headers")
		}
	}
}

func payload(v string) []byte {
	if v == "" {
		return nil
	}
	return []byte(v)
}

func (p *entryParser) num(name, v string, min int64) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		p.bad = append(p.bad, fmt.Sprintf("%s %q", name, v))
		return min
	}
	return n
}

// time reads what appendTime wrote.
func (p *entryParser) time(name, v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	us, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		p.bad = append(p.bad, fmt.Sprintf("%s %q", name, v))
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// finish names what is wrong in d.Malformed.
func (p *entryParser) finish(d *queue.Delivery, name string) {
	d.Queue = name
	d.Deliveries = max(d.Deliveries, 1)
	d.Attempt = max(d.Attempt, 1)
	if len(p.bad) > 0 {
		d.Malformed = fmt.Errorf("stream entry %s: %s", d.Receipt, strings.Join(p.bad, ", "))
	}
}

// parseEntry reads a stream entry read with XRANGE.
func parseEntry(name, receipt string, f map[string]string) *queue.Delivery {
	d := &queue.Delivery{Receipt: receipt}
	var p entryParser
	p.fields(d, f)
	p.finish(d, name)
	return d
}
