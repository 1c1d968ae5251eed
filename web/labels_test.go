package web

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

var (
	tableRe    = regexp.MustCompile(`(?s)<table(?:\s[^>]*)?>.*?</table>`)
	theadRe    = regexp.MustCompile(`(?s)<thead>(.*?)</thead>`)
	tbodyRe    = regexp.MustCompile(`(?s)<tbody>(.*?)</tbody>`)
	bodyRowRe  = regexp.MustCompile(`(?s)<tr(?:\s[^>]*)?>(.*?)</tr>`)
	headCellRe = regexp.MustCompile(`(?s)<th(?:\s[^>]*)?>(.*?)</th>`)
	// cellRe is a body cell's opening tag: its name and attributes.
	cellRe  = regexp.MustCompile(`<(td|th)(\s[^>]*)?>`)
	labelRe = regexp.MustCompile(`\sdata-label="([^"]*)"`)
	tagRe   = regexp.MustCompile(`<[^>]*>`)
)

// labelProblems checks that every <td> of every table body in page is
// led, on a phone, by its column's name: its data-label is the text of
// the head's cell above it ("" where the table has no head, or the head's
// cell no text, as a checkbox's). It returns what is wrong, and how many
// cells carry a name.
func labelProblems(page string) (problems []string, named int) {
	for ti, table := range tableRe.FindAllString(page, -1) {
		var head []string
		if m := theadRe.FindStringSubmatch(table); m != nil {
			for _, th := range headCellRe.FindAllStringSubmatch(m[1], -1) {
				head = append(head, strings.TrimSpace(html.UnescapeString(tagRe.ReplaceAllString(th[1], ""))))
			}
		}
		for _, body := range tbodyRe.FindAllStringSubmatch(table, -1) {
			for ri, row := range bodyRowRe.FindAllStringSubmatch(body[1], -1) {
				cells := cellRe.FindAllStringSubmatch(row[1], -1)
				if head != nil && len(cells) != len(head) {
					problems = append(problems, fmt.Sprintf("table %d row %d: %d cells under %d column heads %q", ti, ri, len(cells), len(head), head))
				}
				for ci, c := range cells {
					if c[1] != "td" {
						continue
					}
					want := ""
					if ci < len(head) {
						want = head[ci]
					}
					m := labelRe.FindStringSubmatch(c[2])
					switch {
					case m == nil:
						problems = append(problems, fmt.Sprintf("table %d row %d cell %d (column %q): no data-label", ti, ri, ci, want))
					case html.UnescapeString(m[1]) != want:
						problems = append(problems, fmt.Sprintf("table %d row %d cell %d: data-label %q, want its column's name %q", ti, ri, ci, m[1], want))
					case want != "":
						named++
					}
				}
			}
		}
	}
	return problems, named
}

// Every cell of every listing carries its column's name from the server,
// so that a phone's cards show the names with JavaScript off too: on each
// page with rows, as the view serves it and read-only (no Action column).
func TestCellLabels(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		now := time.Now()
		err := e.b.q.PublishSchedules(t.Context(), "host-1", []queue.ScheduleEntry{{Name: "report", Spec: "0 3 * * *",
			Task: "email", Queue: "default", Next: now.Add(time.Hour), Last: now.Add(-time.Hour), LastStatus: "enqueued",
			Published: now}}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		pages := []string{
			"", "tasks?queue=default&state=ready", "tasks?queue=default&state=running",
			"tasks?queue=default&state=delayed", "tasks?queue=side&state=dead", "tasks?queue=side&state=finished",
			"task?queue=side&id=evil-1", "dead", "dead?queue=side", "locks", "results", "results?queue=side",
			"workers", "schedules",
		}
		if e.kind != "memory" { // the memory backend has no Redis server to show
			pages = append(pages, "redis")
		}
		check := func(t *testing.T) {
			for _, path := range pages {
				problems, named := labelProblems(e.page(t, path))
				for _, p := range problems {
					t.Errorf("%q: %s", path, p)
				}
				if named == 0 {
					t.Errorf("%q: no cell named by its column: the page lists nothing to check", path)
				}
			}
		}
		check(t)
		e.serve(t, New(e.src, ReadOnly()))
		check(t)
	})
}

// labelProblems finds a cell its template left unnamed, or named wrong.
func TestLabelProblems(t *testing.T) {
	head := `<table><thead><tr><th scope="col"><input aria-label="all"></th><th scope="col">ID</th><th scope="col">Task &amp; kind</th></tr></thead><tbody>`
	for _, tc := range []struct {
		name, page string
		problems   int
		named      int
	}{
		{"named", head + `<tr><td data-label=""><input></td><th scope="row">e-1</th><td data-label="Task &amp; kind">email</td></tr></tbody></table>`, 0, 1},
		{"unnamed", head + `<tr><td data-label=""></td><th scope="row">e-1</th><td>email</td></tr></tbody></table>`, 1, 0},
		{"misnamed", head + `<tr><td data-label=""></td><th scope="row">e-1</th><td data-label="Task">email</td></tr></tbody></table>`, 1, 0},
		{"a cell short", head + `<tr><th scope="row">e-1</th><td data-label="Task &amp; kind">email</td></tr></tbody></table>`, 2, 0},
		{"no head", `<table><tbody><tr><th scope="row">Mode</th><td data-label="">standalone</td></tr></tbody></table>`, 0, 0},
		{"no head, named", `<table><tbody><tr><th scope="row">Mode</th><td data-label="Mode">standalone</td></tr></tbody></table>`, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems, named := labelProblems(tc.page)
			if len(problems) != tc.problems || named != tc.named {
				t.Errorf("%d problems %q, %d named; want %d problems, %d named", len(problems), problems, named, tc.problems, tc.named)
			}
		})
	}
}
