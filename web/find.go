package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
)

// findParams is what a listing is asked to find, as the URL says it:
// ?q= (search in IDs, task names and arguments), ?task=, ?status=,
// ?kind=, ?since= and ?until= (UTC, "2006-01-02T15:04" as a datetime-local
// field sends it, or RFC 3339), ?after= (the cursor of the page), ?prev=
// (repeated: the cursors of the pages before it, the oldest first, "" for
// the first page) and ?limit=. They stay in the URL, so that a listing
// can be linked to.
type findParams struct {
	Search string `json:"q,omitempty"`
	Task   string `json:"task,omitempty"`
	Status string `json:"status,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Since  string `json:"since,omitempty"`
	Until  string `json:"until,omitempty"`
	After  string `json:"after,omitempty"`
	// Prev is the trail of cursors back to where it starts: cursors are
	// opaque and lead forward only, so the way back is carried along.
	Prev  []string `json:"prev,omitempty"`
	Limit int      `json:"limit"`
}

// maxTrail bounds the trail of cursors a listing's URL carries: past it
// the oldest are dropped, and "previous" leads back to where the trail
// starts ("first" still goes to the first page).
const maxTrail = 20

// maxFindText bounds each text field of a search, so that a URL cannot
// make the backend match against megabytes.
const maxFindText = 200

// findParamsOf reads r's findParams, and the query they make for set.
func findParamsOf(r *http.Request, set queue.TaskSet) (findParams, queue.TaskQuery, error) {
	f := findParams{Search: strings.TrimSpace(r.FormValue("q")), Task: r.FormValue("task"), Status: r.FormValue("status"),
		Kind: r.FormValue("kind"), Since: r.FormValue("since"), Until: r.FormValue("until"), After: r.FormValue("after"),
		Prev: trail(r.Form["prev"]), Limit: defaultLimit}
	for _, s := range []string{f.Search, f.Task, f.Status, f.Kind, f.Since, f.Until} {
		if len(s) > maxFindText {
			return f, queue.TaskQuery{}, &httpError{http.StatusBadRequest, fmt.Sprintf("Search fields take at most %d bytes.", maxFindText)}
		}
	}
	if s := r.FormValue("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return f, queue.TaskQuery{}, &httpError{http.StatusBadRequest, fmt.Sprintf("Bad limit: say 1 to %d.", maxLimit)}
		}
		f.Limit = n
	}
	tq := queue.TaskQuery{Set: set, After: f.After, Limit: f.Limit, Task: f.Task, Search: f.Search,
		Status: queue.Status(f.Status), Kind: f.Kind}
	var err error
	if tq.Since, err = formTime("since", f.Since); err != nil {
		return f, tq, err
	}
	if tq.Until, err = formTime("until", f.Until); err != nil {
		return f, tq, err
	}
	return f, tq, nil
}

// trail is cursors bounded to the latest maxTrail. The cursors are not
// checked here: one the backend did not make is refused when followed.
func trail(cursors []string) []string {
	return cursors[max(0, len(cursors)-maxTrail):]
}

// formTime reads a time of the search form, in UTC; zero if empty.
func formTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &httpError{http.StatusBadRequest, "Bad " + field + ": say a UTC time, 2026-01-02T15:04."}
}

// values is the URL query of f, without its cursor: the first page.
func (f findParams) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Search, "task": f.Task, "status": f.Status, "kind": f.Kind,
		"since": f.Since, "until": f.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Limit != defaultLimit {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	return v
}

// Filtered says whether f narrows the listing.
func (f findParams) Filtered() bool {
	return f.Search != "" || f.Task != "" || f.Status != "" || f.Kind != "" || f.Since != "" || f.Until != ""
}

// pageLinks are the links of a paged listing: to its first page and its
// previous (if this is not the first, and the trail says which it was),
// and its next (if there is one).
type pageLinks struct {
	First    string `json:"first,omitempty"`
	Previous string `json:"previous,omitempty"`
	Next     string `json:"next,omitempty"`
	// Cursor is the next page's cursor, for the API.
	Cursor string `json:"cursor,omitempty"`
}

// listURL is the URL of the listing at path, whose query without f's
// fields is base, from cursor after ("": its first page), with the trail
// prev of the cursors before it.
func listURL(path string, base url.Values, f findParams, after string, prev []string) string {
	v := f.values()
	for k, vs := range base {
		v[k] = vs
	}
	if after != "" {
		v.Set("after", after)
	}
	if len(prev) > 0 {
		v["prev"] = prev
	}
	return to(path, v)
}

// linksOf makes the links of a page of the listing at path (see listURL)
// whose next page's cursor is next.
func linksOf(path string, base url.Values, f findParams, next string) pageLinks {
	var l pageLinks
	// prev is the trail of the next page, but for this one; nothing is
	// before the first page.
	var prev []string
	if f.After != "" {
		prev = slices.Clone(f.Prev)
		l.First = listURL(path, base, f, "", nil)
		if n := len(prev); n > 0 {
			l.Previous = listURL(path, base, f, prev[n-1], prev[:n-1])
		}
	}
	if next != "" {
		l.Next, l.Cursor = listURL(path, base, f, next, trail(append(prev, f.After))), next
	}
	return l
}

// badCursor turns a cursor the backend refused into a 400 that says so.
func badCursor(err error) error {
	if errors.Is(err, queue.ErrBadCursor) {
		return &httpError{http.StatusBadRequest, "Bad page cursor: start again from the first page."}
	}
	return err
}
