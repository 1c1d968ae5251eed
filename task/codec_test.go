package task_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/taskware/taskware/task"
)

type point struct {
	X, Y int
	Tag  string `json:"tag,omitempty"`
}

type ptrMarshaler struct{ n int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"ptr"`), nil }

type textKey string

func (k textKey) MarshalText() ([]byte, error) { return []byte("k-" + string(k)), nil }

// The JSON codec's Encode writes what Marshal returns, byte for byte.
func TestJSONEncodeIsMarshal(t *testing.T) {
	s := strings.Repeat("é<>&\u2028x\xff\xe2\x82", 20_000) // escapes, invalid bytes, runes across chunks
	var nilSlice []int
	var nilMap map[string]int
	var nilPtr *point
	values := []any{
		nil, 1, 2.5, "plain", s, []byte(s), []byte{}, []byte(nil), nilSlice, []int{}, []int{1, 2, 3},
		[3]byte{1, 2, 3}, []string{s, "b"}, map[string]any{"b": 1, "a": []any{"x", nil, 2.0}, "c": nilMap},
		nilMap, map[int]string{2: "b", 1: "a"}, map[textKey]int{"z": 1, "a": 2}, point{1, 2, ""}, &point{3, 4, "t"},
		nilPtr, []point{{1, 2, "a"}}, []ptrMarshaler{{1}, {2}}, map[string]ptrMarshaler{"a": {1}},
		time.Unix(0, 0).UTC(), [][]string{{"a"}, nil, {}}, json.RawMessage(`{"raw":true}`),
		[]any{map[string][]byte{"k": []byte("v")}},
	}
	for i, v := range values {
		want, werr := json.Marshal(v)
		var b strings.Builder
		err := task.JSON.Encode(&b, v)
		if (err != nil) != (werr != nil) || b.String() != string(want) {
			t.Errorf("value %d (%T): Encode %.80q, %v; Marshal %.80q, %v", i, v, b.String(), err, want, werr)
		}
	}
	// What encoding/json refuses, Encode refuses too.
	if err := task.JSON.Encode(io.Discard, []any{func() {}}); err == nil {
		t.Error("a func encoded")
	}
}

// countingWriter counts the bytes written to it, and fails every write
// once more than max have been.
type countingWriter struct{ n, max int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n > w.max {
		return 0, errors.New("over")
	}
	return len(p), nil
}

// Encoding stops at the first write refused: a 64 MB result costs the
// cap, not 64 MB, counted in bytes handed to the writer.
func TestJSONEncodeStopsAtTheCap(t *testing.T) {
	const big, capBytes = 64 << 20, 1 << 20
	s := strings.Repeat("x", big)
	many := make([]string, big/8)
	for i := range many {
		many[i] = "1234567"
	}
	for _, tc := range []struct {
		name string
		v    any
	}{
		{"a string", s},
		{"a byte slice", []byte(s)},
		{"a slice of strings", many},
		{"a map", map[string]any{"a": s, "b": many}},
	} {
		w := &countingWriter{max: capBytes}
		if err := task.JSON.Encode(w, tc.v); err == nil {
			t.Fatalf("%s: encoded whole past the cap", tc.name)
		}
		if w.n > capBytes+64<<10 {
			t.Errorf("%s: %d bytes written for a cap of %d", tc.name, w.n, capBytes)
		}
		_, err := task.MarshalCapped(task.JSON, tc.v, capBytes, "result of big")
		var tl *task.TooLargeError
		if !errors.As(err, &tl) || !errors.Is(err, task.ErrTooLarge) || !tl.Partial || tl.Max != capBytes {
			t.Errorf("%s: MarshalCapped: %v", tc.name, err)
		}
	}
	b, err := task.MarshalCapped(task.JSON, "at the cap", 12, "result")
	if err != nil || string(b) != `"at the cap"` {
		t.Fatalf("at the cap: %q, %v", b, err)
	}
	if _, err := task.MarshalCapped(task.JSON, "at the cap", 11, "result"); !errors.Is(err, task.ErrTooLarge) {
		t.Fatalf("a byte over: %v", err)
	}
}

// A failure's text is cut to MaxErrorText bytes, whole runes, and marked.
func TestErrorTextIsCapped(t *testing.T) {
	huge := errors.New(strings.Repeat("é", 5<<20/2)) // 5 MB
	got := task.ErrorText(huge)
	if len(got) > task.MaxErrorText+len("…") || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Fatalf("%d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if got := task.ErrorText(errors.New("short")); got != "short" {
		t.Fatalf("a short text: %q", got)
	}
}
