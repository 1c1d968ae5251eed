package pagecursor

import (
	"errors"
	"testing"

	"github.com/taskware/taskware/queue"
)

// A cursor reads back as it was made, for its own set only; anything
// else is a bad cursor, and a set that is not one is refused.
func TestParse(t *testing.T) {
	c := Encode(queue.DelayedTasks, -42, "id|with|bars")
	pos, id, err := Parse("q", queue.TaskQuery{Set: queue.DelayedTasks, After: c}, nil)
	if err != nil || pos != -42 || id != "id|with|bars" {
		t.Fatalf("Parse(Encode(...)) = %d, %q, %v", pos, id, err)
	}
	if pos, id, err := Parse("q", queue.TaskQuery{Set: queue.ReadyTasks}, nil); err != nil || pos != 0 || id != "" {
		t.Fatalf("Parse of no cursor = %d, %q, %v", pos, id, err)
	}
	for _, tq := range []queue.TaskQuery{
		{Set: queue.ReadyTasks, After: c},      // another set's
		{Set: queue.DelayedTasks, After: "!!"}, // not base64
		{Set: queue.DelayedTasks, After: Encode(queue.DelayedTasks, 1, "x")[:4]},
	} {
		if _, _, err := Parse("q", tq, nil); !errors.Is(err, queue.ErrBadCursor) {
			t.Errorf("Parse(%+v) = %v, want ErrBadCursor", tq, err)
		}
	}
	no := func(string) bool { return false }
	if _, _, err := Parse("q", queue.TaskQuery{Set: queue.DelayedTasks, After: c}, no); !errors.Is(err, queue.ErrBadCursor) {
		t.Errorf("an ID refused: %v, want ErrBadCursor", err)
	}
	if _, _, err := Parse("q", queue.TaskQuery{Set: "nope"}, nil); err == nil || errors.Is(err, queue.ErrBadCursor) {
		t.Errorf("a set that is none: %v, want an error that is not ErrBadCursor", err)
	}
}
