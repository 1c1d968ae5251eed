package task

import (
	"encoding/json"
	"errors"
	"io"
)

// Codec encodes task arguments and results to bytes and back.
// Implementations must be safe for concurrent use.
type Codec interface {
	Marshal(v any) ([]byte, error)
	// Encode writes what Marshal returns to w, as it goes, and stops at
	// the first error of w's: so a writer that refuses more than a cap
	// stops the encoding there (see MarshalCapped).
	Encode(w io.Writer, v any) error
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec, encoding/json. Its Encode writes strings,
// byte slices, slices, arrays and maps with string keys piece by piece,
// so a result made of them stops within 32 KiB past a cap; a struct, or a
// value with its own MarshalJSON, is encoded whole, then written.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Encode(w io.Writer, v any) error    { return encodeJSON(w, v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// MarshalCapped encodes v with c into at most max bytes. Past them it
// stops, and the error is a *TooLargeError about what (Size is then how
// far it got: the value is larger still). It costs no more than the cap,
// as far as c's Encode writes as it goes.
func MarshalCapped(c Codec, v any, max int, what string) ([]byte, error) {
	w := &cappedWriter{max: max}
	w.buf = w.small[:0]
	err := c.Encode(w, v)
	if w.over {
		return nil, &TooLargeError{What: what, Size: w.seen, Max: max, Partial: true}
	}
	if err != nil {
		return nil, err
	}
	return w.buf, nil
}

// errOverCap is what a cappedWriter returns past its cap.
var errOverCap = errors.New("task: encoding over its cap")

// cappedWriter keeps what is written to it, up to max bytes, and fails
// the write that would go past them.
type cappedWriter struct {
	buf   []byte
	small [64]byte // buf's first array: a small value needs no other
	max   int
	seen  int // bytes written to it, those refused included
	over  bool
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	w.seen += len(p)
	if w.over || len(w.buf)+len(p) > w.max {
		w.over = true
		return 0, errOverCap
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}
