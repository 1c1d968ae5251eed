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
	"github.com/taskware/taskware/task"
)

// A record on Redis is one string, so that a write is a plain SET with its
// TTL, replacing the record whole: no script, no DEL, no PEXPIRE. Its format
// is "r1" and then, in order, the task, status, attempt, time (µs), kind,
// error and value, each as "<length>:<bytes>". The queue and ID are in
// the key.
const recordVersion = "r1"

func encodeRecord(rec *store.Record, at time.Time) string { return appendRecord(nil, rec, at) }

// appendRecord is encodeRecord into buf's array if the record fits, and
// into one of its own if not.
func appendRecord(buf []byte, rec *store.Record, at time.Time) string {
	var nums [2][20]byte
	attempt := strconv.AppendInt(nums[0][:0], int64(rec.Attempt), 10)
	atUs := strconv.AppendInt(nums[1][:0], at.UnixMicro(), 10)
	n := len(recordVersion) + len(rec.Task) + len(rec.Status) + len(attempt) + len(atUs) + len(rec.Kind) +
		len(rec.Error) + len(rec.Value) + 7*8
	b := buf[:0]
	if cap(b) < n {
		b = make([]byte, 0, n)
	}
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
//
// A workflow step's core has its headers (empty if none) and its Step
// (encodeStep) too, seven parts; the script that releases it appends an
// eighth, its inputs (see lua/lib/flow.lua), which a Take reads into
// Delivery.Inputs.
//
// A batch's core (made by lua/flush_groups.lua) has a ninth part, its
// members' IDs, a netstring of netstrings, after empty headers, step and
// inputs. A grouped message's group key is kept in its state, not its
// core.
const messageVersion = "m1"

func encodeMessage(m *queue.Message) string {
	var nums [2][20]byte
	enq := appendTime(nums[0][:0], m.EnqueuedAt)
	exp := appendTime(nums[1][:0], m.ExpiresAt)
	var step []byte
	if m.Step != nil {
		step = encodeStep(m.Step)
	}
	b := make([]byte, 0, len(m.ID)+len(m.Task)+len(enq)+len(exp)+len(m.Payload)+len(step)+7*8)
	b = appendNetstring(b, m.ID)
	b = appendNetstring(b, m.Task)
	b = appendNetstring(b, enq)
	b = appendNetstring(b, exp)
	b = appendNetstring(b, m.Payload)
	if len(m.Headers) > 0 || m.Step != nil || m.Batch != nil {
		b = appendNetstring(b, encodeHeaders(m.Headers))
	}
	if m.Step != nil || m.Batch != nil {
		b = appendNetstring(b, step)
	}
	if m.Batch != nil {
		var ids []byte
		for _, id := range m.Batch {
			ids = appendNetstring(ids, id)
		}
		b = appendNetstring(appendNetstring(b, ""), ids) // no inputs
	}
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
}

// encodeStep makes a message's Step one string of netstrings: its
// workflow, home queue and name, its bind mode and skip policy (numbers),
// its flags ("u" outcomes, "a" absorbed, "o" output), then its parents,
// children and fields, each a netstring of netstrings (a step's queue and
// name, for the first two).
func encodeStep(s *queue.Step) []byte {
	var b []byte
	b = appendNetstring(b, s.Workflow)
	b = appendNetstring(b, s.Home)
	b = appendNetstring(b, s.Name)
	b = appendNetstring(b, strconv.Itoa(int(s.Bind)))
	b = appendNetstring(b, strconv.Itoa(int(s.IfSkipped)))
	b = appendNetstring(b, stepFlags(s))
	b = appendNetstring(b, encodeRefs(s.Parents))
	b = appendNetstring(b, encodeRefs(s.Children))
	var f []byte
	for _, name := range s.Fields {
		f = appendNetstring(f, name)
	}
	return appendNetstring(b, f)
}

// stepFlags are a step's flags, as encodeStep writes them.
func stepFlags(s *queue.Step) string {
	var f []byte
	if s.Outcomes {
		f = append(f, 'u')
	}
	if s.Absorbed {
		f = append(f, 'a')
	}
	if s.Output {
		f = append(f, 'o')
	}
	return string(f)
}

func encodeRefs(refs []queue.StepRef) []byte {
	var b []byte
	for _, r := range refs {
		b = appendNetstring(b, r.Queue)
		b = appendNetstring(b, r.Name)
	}
	return b
}

// netstrings splits a string of netstrings.
func netstrings(s string) ([]string, bool) {
	var out []string
	for s != "" {
		f, rest, ok := netstring(s)
		if !ok {
			return nil, false
		}
		out, s = append(out, f), rest
	}
	return out, true
}

// decodeStep reads what encodeStep wrote.
func decodeStep(v string) (*queue.Step, bool) {
	f, ok := netstrings(v)
	if !ok || len(f) != 9 {
		return nil, false
	}
	bind, err1 := strconv.Atoi(f[3])
	skip, err2 := strconv.Atoi(f[4])
	parents, ok1 := decodeRefs(f[6])
	children, ok2 := decodeRefs(f[7])
	fields, ok3 := netstrings(f[8])
	if err1 != nil || err2 != nil || bind < 0 || bind > 255 || skip < 0 || skip > 255 || !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	return &queue.Step{Workflow: f[0], Home: f[1], Name: f[2], Bind: task.BindMode(bind), IfSkipped: queue.SkipPolicy(skip),
		Outcomes: strings.Contains(f[5], "u"), Absorbed: strings.Contains(f[5], "a"), Output: strings.Contains(f[5], "o"),
		Parents: parents, Children: children, Fields: fields}, true
}

func decodeRefs(v string) ([]queue.StepRef, bool) {
	f, ok := netstrings(v)
	if !ok || len(f)%2 != 0 {
		return nil, false
	}
	var refs []queue.StepRef
	for i := 0; i < len(f); i += 2 {
		refs = append(refs, queue.StepRef{Queue: f[i], Name: f[i+1]})
	}
	return refs, true
}

// decodeInputs reads the inputs a release appended to a step's core:
// each parent's name, then its status, kind, error and value (see
// lua/lib/flow.lua), in the order of the step's parents.
func decodeInputs(v string, s *queue.Step) ([]task.Input, bool) {
	f, ok := netstrings(v)
	if !ok || len(f)%2 != 0 || s == nil {
		return nil, false
	}
	if len(f) == 0 {
		return nil, true
	}
	by := make(map[string]task.Input, len(f)/2)
	for i := 0; i < len(f); i += 2 {
		o, ok := netstrings(f[i+1])
		if !ok || len(o) != 4 {
			return nil, false
		}
		by[f[i]] = task.Input{Step: f[i], Status: o[0], Kind: o[1], Error: o[2], Value: payload(o[3])}
	}
	ins := make([]task.Input, 0, len(by))
	for _, p := range s.Parents {
		if in, ok := by[p.Name]; ok {
			ins = append(ins, in)
		}
	}
	return ins, true
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
// dead letter adds beside it, which wins over the message's header; and
// the group key, "g", that message.lua adds for a grouped task.
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
	d.Group = f["g"]
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
		hs, after, ok := netstring(rest)
		if ok && hs != "" {
			d.Headers, ok = decodeHeaders(hs)
		}
		if !ok {
			p.bad = append(p.bad, "unreadable headers")
			return
		}
		rest = after
	}
	if rest != "" { // a workflow step's place, empty in a batch
		ss, after, ok := netstring(rest)
		if ok && ss != "" {
			d.Step, ok = decodeStep(ss)
		}
		if !ok {
			p.bad = append(p.bad, "unreadable step")
			return
		}
		rest = after
	}
	if rest != "" { // a released step's inputs, empty in a batch
		is, after, ok := netstring(rest)
		if ok && is != "" {
			d.Inputs, ok = decodeInputs(is, d.Step)
		}
		if !ok {
			p.bad = append(p.bad, "unreadable inputs")
			return
		}
		rest = after
	}
	if rest != "" { // a batch's members
		bs, _, ok := netstring(rest)
		if ok {
			d.Batch, ok = netstrings(bs)
		}
		if !ok || len(d.Batch) == 0 {
			d.Batch = nil
			p.bad = append(p.bad, "unreadable batch")
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
