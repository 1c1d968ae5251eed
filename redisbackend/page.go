package redisbackend

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/taskware/taskware/internal/pagecursor"
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
// The ready tasks are searched and filtered by task in ready.lua, and the
// finished ones by status, kind, task and ID or name in finished.lua:
// each reads up to 10 000 entries a call and returns only those that may
// match, so that a search of a long set costs no reply per entry.
// A ready, running or dead task's cursor is its entry ID (XRANGE and
// XPENDING go on after it), a delayed task's its due time and ID, and a
// finished task's its end time and ID in the queue's index of ended
// tasks (lib/ended.lua), read newest first, a script a batch.
func (q *Queue) ListTasks(ctx context.Context, name string, tq queue.TaskQuery) (*queue.TaskPage, error) {
	pos, after, err := pagecursor.Parse(name, tq, func(id string) bool { return cursorID(tq.Set, id) })
	if err != nil {
		return nil, err
	}
	limit := tq.PageLimit()
	size := limit + 1
	if tq.Filtered() {
		size = max(size, pageBatch)
	}
	fetch := func(budget int) (rowBatch, error) {
		var rows []row
		var err error
		switch tq.Set {
		case queue.ReadyTasks:
			// Searched server-side: only the entries that may match come
			// back.
			var needles []string
			for _, n := range []string{tq.Task, tq.Kind} {
				if n != "" {
					needles = append(needles, n)
				}
			}
			scan := size
			if tq.Filtered() {
				scan = min(budget, readyScan)
			}
			return q.readyRows(ctx, name, after, size, scan, asciiLower(tq.Search), needles...)
		case queue.RunningTasks:
			rows, err = q.runningRows(ctx, name, after, size)
		case queue.DelayedTasks:
			rows, err = q.delayedRows(ctx, name, after, pos, size)
		case queue.DeadTasks:
			rows, err = q.deadRows(ctx, name, after, size)
		default:
			// Filtered server-side too.
			scan := size
			if tq.Filtered() {
				scan = min(budget, readyScan)
			}
			return q.finishedRows(ctx, name, pos, after, size, scan, tq)
		}
		if err != nil {
			return rowBatch{}, err
		}
		b := rowBatch{rows: rows, read: len(rows), more: len(rows) == size}
		if len(rows) > 0 {
			b.lastPos, b.last = rows[len(rows)-1].pos, rows[len(rows)-1].id
		}
		return b, nil
	}
	page := &queue.TaskPage{Tasks: []queue.TaskInfo{}}
	for scanned := 0; scanned < queue.ScanBudget; {
		b, err := fetch(queue.ScanBudget - scanned)
		if err != nil {
			return nil, fmt.Errorf("worker: list %s tasks of %s: %w", tq.Set, name, unavailable(ctx, err))
		}
		for i, r := range b.rows {
			if !tq.Match(r.info, r.args) {
				continue
			}
			page.Tasks = append(page.Tasks, r.info)
			if len(page.Tasks) == limit {
				if i+1 < len(b.rows) || b.more {
					page.Next = pagecursor.Encode(tq.Set, r.pos, r.id)
				}
				return page, nil
			}
		}
		if !b.more || b.last == "" {
			return page, nil
		}
		pos, after = b.lastPos, b.last
		scanned += max(b.read, 1)
	}
	// The budget is spent: go on from the last row read.
	page.Next = pagecursor.Encode(tq.Set, pos, after)
	return page, nil
}

// readyScan is how many entries ready.lua reads a call for a filtered
// page: a few milliseconds of Redis's time.
const readyScan = 10_000

// rowBatch is what a listing read in one round trip: rows, the place of the
// last row read (which may not be among them, for a prefiltered read),
// how many were read, and whether more may follow.
type rowBatch struct {
	rows    []row
	last    string
	lastPos int64
	read    int
	more    bool
}

// entryID matches a stream entry ID, the cursor of a stream's listing.
var entryID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// cursorID reports whether id may end a cursor of set: any ID but "",
// and an entry ID in a stream's listing.
func cursorID(set queue.TaskSet, id string) bool {
	switch set {
	case queue.ReadyTasks, queue.RunningTasks, queue.DeadTasks:
		return entryID.MatchString(id)
	}
	return id != ""
}

// asciiLower is s lower-cased for ready.lua, whose string.lower folds
// ASCII only: "" (no prefilter) for a search with other letters, which Go
// folds and Lua would not.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return ""
		}
	}
	return strings.ToLower(s)
}
