package redisbackend

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
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
//
// A partitioned queue is listed a partition after the other, 0 first:
// each partition's rows in the order above, all of partition 0's before
// any of partition 1's, and so on (so its finished tasks are newest first
// within a partition, not across them). The cursor names the partition
// too, so pages never skip nor repeat a row; the last page may be empty.
func (q *Queue) ListTasks(ctx context.Context, name string, tq queue.TaskQuery) (*queue.TaskPage, error) {
	pos, after, err := pagecursor.Parse(name, tq, func(id string) bool {
		if _, rest := splitCursor(id); rest != id {
			return rest == "" || cursorID(tq.Set, rest) // "" starts a partition
		}
		return cursorID(tq.Set, id)
	})
	if err != nil {
		return nil, err
	}
	parts, err := q.partitionNames(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("worker: list %s tasks of %s: %w", tq.Set, name, err)
	}
	part := 0
	if len(parts) > 1 {
		part, after = splitCursor(after)
		if part >= len(parts) {
			return nil, fmt.Errorf("worker: list %s tasks of %s: %w %q", tq.Set, name, queue.ErrBadCursor, tq.After)
		}
	}
	page := &queue.TaskPage{Tasks: []queue.TaskInfo{}}
	scanned := 0
	for ; part < len(parts); part, pos, after = part+1, 0, "" {
		next, err := q.listPartition(ctx, name, parts[part], tq, page, pos, after, &scanned)
		if err != nil {
			return nil, fmt.Errorf("worker: list %s tasks of %s: %w", tq.Set, name, unavailable(ctx, err))
		}
		if next == nil && part+1 < len(parts) && len(page.Tasks) == tq.PageLimit() {
			next = &place{} // this partition is done: the next page starts the next one
			part++
		}
		if next != nil {
			id := next.id
			if len(parts) > 1 {
				id = strconv.Itoa(part) + "#" + id
			}
			page.Next = pagecursor.Encode(tq.Set, next.pos, id)
			return page, nil
		}
	}
	return page, nil
}

// place is where a listing goes on: after pos and id.
type place struct {
	pos int64
	id  string
}

// splitCursor splits a partitioned queue's cursor ID, "<partition>#<id>";
// an ID without one is partition 0's (an unpartitioned queue's).
func splitCursor(id string) (int, string) {
	p, rest, ok := strings.Cut(id, "#")
	if !ok {
		return 0, id
	}
	i, err := strconv.Atoi(p)
	if err != nil || i < 0 || i >= MaxPartitions {
		return 0, id
	}
	return i, rest
}

// listPartition adds to page the rows of tq's set of one physical queue
// after (pos, after), until the page is full, the set ends, or
// queue.ScanBudget rows were read in all (*scanned). It returns where the
// next page goes on, or nil if the set ended with no row left over.
func (q *Queue) listPartition(ctx context.Context, name, physical string, tq queue.TaskQuery, page *queue.TaskPage, pos int64, after string, scanned *int) (*place, error) {
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
			return q.readyRows(ctx, physical, after, size, scan, asciiLower(tq.Search), needles...)
		case queue.RunningTasks:
			rows, err = q.runningRows(ctx, physical, after, size)
		case queue.DelayedTasks:
			rows, err = q.delayedRows(ctx, physical, after, pos, size)
		case queue.DeadTasks:
			rows, err = q.deadRows(ctx, physical, after, size)
		default:
			// Filtered server-side too.
			scan := size
			if tq.Filtered() {
				scan = min(budget, readyScan)
			}
			return q.finishedRows(ctx, physical, pos, after, size, scan, tq)
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
	for *scanned < queue.ScanBudget {
		b, err := fetch(queue.ScanBudget - *scanned)
		if err != nil {
			return nil, err
		}
		for i, r := range b.rows {
			r.info.Queue = name
			if !tq.Match(r.info, r.args) {
				continue
			}
			page.Tasks = append(page.Tasks, r.info)
			if len(page.Tasks) == limit {
				if i+1 < len(b.rows) || b.more {
					return &place{r.pos, r.id}, nil
				}
				return nil, nil
			}
		}
		if !b.more || b.last == "" {
			return nil, nil
		}
		pos, after = b.lastPos, b.last
		*scanned += max(b.read, 1)
	}
	// The budget is spent: go on from the last row read.
	return &place{pos, after}, nil
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
