package redisbackend

import (
	"errors"
	"strconv"
	"time"
	"unsafe"

	"github.com/taskware/taskware/store"
)

// A record on Redis is one string, so that a write is a plain SET with its
// TTL, replacing the record whole: no script, no DEL, no PEXPIRE. Its format
// is "r1" and then, in order, the task, status, attempt, time (µs), kind,
// error and value, each as "<length>:<bytes>". The queue and ID are in
// the key.
const recordVersion = "r1"

func encodeRecord(rec *store.Record, at time.Time) string {
	attempt := strconv.Itoa(rec.Attempt)
	atUs := strconv.FormatInt(at.UnixMicro(), 10)
	fields := [...]string{rec.Task, string(rec.Status), attempt, atUs, rec.Kind, rec.Error}
	n := len(recordVersion) + len(rec.Value) + 8*12
	for _, f := range fields {
		n += len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, recordVersion...)
	for _, f := range fields {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
	}
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
