package pagecursor

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/taskware/taskware/queue"
)

// Encode makes the cursor of a row of set at pos and id.
func Encode(set queue.TaskSet, pos int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(set) + "|" + strconv.FormatInt(pos, 10) + "|" + id))
}

// Parse checks tq's set and reads its cursor: the place to go on after,
// or none (after "") if tq has no cursor. A set that is not one of
// queue.TaskSets is an error; so is a cursor that Encode did not make for
// tq's set, or whose ID valid refuses (valid nil: any ID), matching
// queue.ErrBadCursor.
func Parse(name string, tq queue.TaskQuery, valid func(id string) bool) (pos int64, after string, err error) {
	if !slices.Contains(queue.TaskSets, tq.Set) {
		return 0, "", fmt.Errorf("worker: list %q tasks of %s: no such set of tasks", tq.Set, name)
	}
	if tq.After == "" {
		return 0, "", nil
	}
	pos, after, ok := decode(tq.Set, tq.After)
	if !ok || valid != nil && !valid(after) {
		return 0, "", fmt.Errorf("worker: list %s tasks of %s: %w %q", tq.Set, name, queue.ErrBadCursor, tq.After)
	}
	return pos, after, nil
}

func decode(set queue.TaskSet, c string) (pos int64, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", false
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || parts[0] != string(set) {
		return 0, "", false
	}
	pos, err = strconv.ParseInt(parts[1], 10, 64)
	return pos, parts[2], err == nil
}
