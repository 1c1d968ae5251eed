package redisbackend

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/taskware/taskware/queue"
)

// row is one row of a listing, with its encoded arguments (nil if none
// are known) and its place: an entry ID (ready, running, dead), or pos
// then id (delayed: due ms and task ID; finished: the negated end time in
// µs and task ID).
type row struct {
	info queue.TaskInfo
	args []byte
	pos  int64
	id   string
}

func (r row) compare(pos int64, id string) int {
	return cmp.Or(cmp.Compare(r.pos, pos), strings.Compare(r.id, id))
}

func infos(rows []row) []queue.TaskInfo {
	out := make([]queue.TaskInfo, len(rows))
	for i, r := range rows {
		out[i] = r.info
	}
	return out
}

// pageBatch is how many rows a filtered ListTasks reads a round trip.
const pageBatch = 1000

// ListTasks implements queue.Admin. Ready, running, delayed and dead tasks
// are read from the cursor on, in batches of the page's size (1 000 when
// filtered), one round trip each, until the page is full, the set ends or
// queue.ScanBudget rows were read; then the cursor is the last row read.
// A ready, running or dead task's cursor is its entry ID (XRANGE and
// XPENDING go on after it), a delayed task's its due time and ID. A
// finished page SCANs all the queue's task states, as Tasks does, and
// goes on after the end time and ID of the cursor.
func (q *Queue) ListTasks(ctx context.Context, name string, tq queue.TaskQuery) (*queue.TaskPage, error) {
	if !slices.Contains(queue.TaskSets, tq.Set) {
		return nil, fmt.Errorf("worker: list %q tasks of %s: no such set of tasks", tq.Set, name)
	}
	var pos int64
	var after string
	if tq.After != "" {
		var ok bool
		if pos, after, ok = decodeCursor(tq.Set, tq.After); !ok {
			return nil, fmt.Errorf("worker: list %s tasks of %s: %w %q", tq.Set, name, queue.ErrBadCursor, tq.After)
		}
	}
	limit := tq.PageLimit()
	batch := limit + 1
	if tq.Filtered() {
		batch = max(batch, pageBatch)
	}
	var finished []row // read once
	fetch := func() ([]row, error) {
		switch tq.Set {
		case queue.ReadyTasks:
			return q.readyRows(ctx, name, after, batch)
		case queue.RunningTasks:
			return q.runningRows(ctx, name, after, batch)
		case queue.DelayedTasks:
			return q.delayedRows(ctx, name, after, pos, batch)
		case queue.DeadTasks:
			return q.deadRows(ctx, name, after, batch)
		}
		if finished == nil {
			rows, err := q.finishedRows(ctx, name)
			if err != nil {
				return nil, err
			}
			finished = rows
		}
		i := 0
		if after != "" {
			i, _ = slices.BinarySearchFunc(finished, 0, func(r row, _ int) int { return r.compare(pos, after) })
			if i < len(finished) && finished[i].compare(pos, after) == 0 {
				i++
			}
		}
		return finished[i:min(len(finished), i+batch)], nil
	}
	page := &queue.TaskPage{Tasks: []queue.TaskInfo{}}
	for scanned := 0; ; {
		rows, err := fetch()
		if err != nil {
			return nil, fmt.Errorf("worker: list %s tasks of %s: %w", tq.Set, name, unavailable(ctx, err))
		}
		for i, r := range rows {
			scanned++
			if tq.Match(r.info, r.args) {
				page.Tasks = append(page.Tasks, r.info)
			}
			more := i+1 < len(rows) || len(rows) == batch
			if len(page.Tasks) == limit || scanned >= queue.ScanBudget {
				if more {
					page.Next = encodeCursor(tq.Set, r.pos, r.id)
				}
				return page, nil
			}
		}
		if len(rows) < batch {
			return page, nil
		}
		last := rows[len(rows)-1]
		pos, after = last.pos, last.id
	}
}

// entryID matches a stream entry ID, the cursor of a stream's listing.
var entryID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// encodeCursor makes an opaque cursor, safe in a URL, of a row's place in
// set.
func encodeCursor(set queue.TaskSet, pos int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(set) + "|" + strconv.FormatInt(pos, 10) + "|" + id))
}

// decodeCursor reads a cursor of set; one of a stream's listing must name
// an entry.
func decodeCursor(set queue.TaskSet, c string) (pos int64, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", false
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || parts[0] != string(set) || parts[2] == "" {
		return 0, "", false
	}
	if pos, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return 0, "", false
	}
	switch set {
	case queue.ReadyTasks, queue.RunningTasks, queue.DeadTasks:
		if !entryID.MatchString(parts[2]) {
			return 0, "", false
		}
	}
	return pos, parts[2], true
}
