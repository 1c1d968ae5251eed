package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/taskware/taskware/internal/humantime"
)

// table returns a tabwriter on the command's output.
func (in *inspection) table(header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(in.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	return tw
}

// row prints one row of a table, each value made to fit its cell.
func (in *inspection) row(tw io.Writer, cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = cell(fmt.Sprint(c))
	}
	fmt.Fprintln(tw, strings.Join(s, "\t"))
}

// json prints v as the command's one JSON document.
func (in *inspection) json(v any) error {
	doc, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	in.out.Write(visibleJSON(doc))
	in.out.WriteByte('\n')
	return nil
}

// age shows how long ago t was, "-" if t is zero.
func (in *inspection) age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration(in.now.Sub(t))
}

// ago shows when t was, as "3s ago", "-" if t is zero.
func (in *inspection) ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return in.age(t) + " ago"
}

// until shows how long until t, "-" if t is zero, "due" if it is past.
func (in *inspection) until(t time.Time) string {
	switch d := t.Sub(in.now); {
	case t.IsZero():
		return "-"
	case d <= 0:
		return "due"
	default:
		return "in " + duration(d)
	}
}

// duration shows d as the tables do (see humantime.Duration).
func duration(d time.Duration) string { return humantime.Duration(d) }

// queueName shows a record's queue: "" is that of runs in-process.
func queueName(q string) string { return cmp.Or(q, "(in-process)") }
