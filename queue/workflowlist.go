package queue

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/taskware/taskware/task"
)

// WorkflowQuery asks Workflows.ListWorkflows for one page of a queue's
// workflows.
type WorkflowQuery struct {
	// Status keeps the workflows of this status, one of WorkflowStatuses;
	// "" keeps all.
	Status Status
	// Limit is the most workflows on the page: DefaultWorkflowPage if 0,
	// at most MaxWorkflowPage (more is capped); negative is refused.
	Limit int
	// After is the Next of the page before, opaque: "" for the first page.
	After string
}

// WorkflowPage is one page of Workflows.ListWorkflows.
type WorkflowPage struct {
	// Workflows are newest first, each without Result and StepStates.
	Workflows []WorkflowState
	// Next is the cursor of the next page, "" if this one is the last.
	Next string
}

// Page sizes of ListWorkflows: small enough that a page of records is
// one quick round trip.
const (
	DefaultWorkflowPage = 50
	MaxWorkflowPage     = 500
)

// WorkflowStatuses are the statuses a workflow has, those a listing
// filters by.
var WorkflowStatuses = []Status{Running, Succeeded, Failed, Canceled}

// WorkflowMark is a workflow's place in a listing: its creation time, in
// µs since 1970, then its ID. Listings go from the greatest down.
type WorkflowMark struct {
	Created int64
	ID      string
}

// MarkOf is w's place in a listing.
func MarkOf(w *WorkflowState) WorkflowMark {
	return WorkflowMark{Created: w.CreatedAt.UnixMicro(), ID: w.ID}
}

// Cursor is the opaque cursor that goes on after m, safe in a URL.
func (m WorkflowMark) Cursor() string {
	return base64.RawURLEncoding.EncodeToString([]byte("wf|" + strconv.FormatInt(m.Created, 10) + "|" + m.ID))
}

// Compare orders marks as a listing does: -1 if m comes before o (it is
// newer, or as new and of a greater ID), 0 if equal, else 1.
func (m WorkflowMark) Compare(o WorkflowMark) int {
	switch {
	case m.Created != o.Created:
		if m.Created > o.Created {
			return -1
		}
		return 1
	case m.ID == o.ID:
		return 0
	case m.ID > o.ID:
		return -1
	}
	return 1
}

// Parse checks q for a listing of queue name, and returns its page limit
// and the place its cursor goes on after (nil for the first page). A
// negative limit, an unknown status, a bad queue name or a cursor that
// Cursor did not make is an error matching task.ErrInvalidConfig (and,
// for a cursor, ErrBadCursor).
func (q WorkflowQuery) Parse(name string) (limit int, after *WorkflowMark, err error) {
	if err := ValidateName(name); err != nil {
		return 0, nil, err
	}
	if q.Limit < 0 {
		return 0, nil, fmt.Errorf("%w: list workflows of %s: limit %d is negative", task.ErrInvalidConfig, name, q.Limit)
	}
	if q.Status != "" && !slices.Contains(WorkflowStatuses, q.Status) {
		return 0, nil, fmt.Errorf("%w: list workflows of %s: status %q is none of %q", task.ErrInvalidConfig, name, q.Status, WorkflowStatuses)
	}
	limit = DefaultWorkflowPage
	if q.Limit > 0 {
		limit = min(q.Limit, MaxWorkflowPage)
	}
	if q.After == "" {
		return limit, nil, nil
	}
	m, ok := parseMark(q.After)
	if !ok {
		return 0, nil, fmt.Errorf("%w: list workflows of %s: %w %q", task.ErrInvalidConfig, name, ErrBadCursor, q.After)
	}
	return limit, &m, nil
}

func parseMark(c string) (WorkflowMark, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return WorkflowMark{}, false
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || parts[0] != "wf" || parts[2] == "" {
		return WorkflowMark{}, false
	}
	created, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || created < 0 {
		return WorkflowMark{}, false
	}
	return WorkflowMark{Created: created, ID: parts[2]}, true
}
