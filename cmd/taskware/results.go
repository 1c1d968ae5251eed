package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/store"
)

var resultsCommands = &family{name: "results", subs: []*inspectCommand{
	{name: "results list", queue: true, limit: true, run: listResults, doc: doc{
		synopsis: []string{"results list [--queue Q] [--limit N]"},
		about:    []string{"the stored results and errors"},
	}},
	{name: "results stats", queue: true, run: countResults, doc: doc{
		synopsis: []string{"results stats [--queue Q]"},
		about:    []string{"count the stored records by queue and status"},
	}},
	{name: "results purge", queue: true, run: purgeResults, doc: doc{
		synopsis: []string{"results purge [--queue Q]"},
		about:    []string{"delete the stored records (of one queue)"},
	}},
}}

// records returns the stored records, of --queue if it was given.
func (in *inspection) records(ctx context.Context) ([]*store.Record, error) {
	recs, err := in.b.Store().List(ctx)
	if err != nil {
		return nil, err
	}
	if in.o.QueueSet {
		recs = slices.DeleteFunc(recs, func(r *store.Record) bool { return r.Queue != in.o.Queue })
	}
	return recs, nil
}

func listResults(ctx context.Context, in *inspection, args []string) error {
	if err := noArgs("results list", args); err != nil {
		return err
	}
	recs, err := in.records(ctx)
	if err != nil {
		return err
	}
	recs = recs[:min(len(recs), in.o.Limit)]
	in.empty = len(recs) == 0
	if in.o.JSON {
		rs := make([]rows.Record, len(recs))
		for i, r := range recs {
			rs[i] = rows.RecordOf(r)
		}
		return in.json(map[string]any{"results": rs})
	}
	tw := in.table("QUEUE", "ID", "TASK", "STATUS", "ATTEMPT", "STORED", "EXPIRES", "KIND", "ERROR")
	for _, r := range recs {
		in.row(tw, queueName(r.Queue), r.ID, r.Task, r.Status, r.Attempt, in.ago(r.At), in.until(r.ExpiresAt), r.Kind, r.Error)
	}
	return tw.Flush()
}

func countResults(ctx context.Context, in *inspection, args []string) error {
	if err := noArgs("results stats", args); err != nil {
		return err
	}
	recs, err := in.records(ctx)
	if err != nil {
		return err
	}
	stats := rows.ResultStatsOf(recs)
	in.empty = len(stats) == 0
	if in.o.JSON {
		return in.json(map[string]any{"stats": stats})
	}
	tw := in.table("QUEUE", "RECORDS", "SUCCEEDED", "FAILED", "SKIPPED", "FAILED BY KIND")
	for _, st := range stats {
		in.row(tw, queueName(st.Queue), st.Records, st.Succeeded, st.Failed, st.Skipped, kindsText(st.FailedKinds))
	}
	return tw.Flush()
}

// kindsText shows counts by kind as "kind=n,...", the most frequent first.
func kindsText(counts map[string]int) string {
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return cmp.Or(counts[b]-counts[a], strings.Compare(a, b)) })
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%s=%d", k, counts[k])
	}
	return strings.Join(kinds, ",")
}

func purgeResults(ctx context.Context, in *inspection, args []string) error {
	if err := noArgs("results purge", args); err != nil {
		return err
	}
	var queues []string
	if in.o.QueueSet {
		queues = []string{in.o.Queue}
	}
	n, err := in.b.Store().Purge(ctx, queues...)
	if err != nil {
		return err
	}
	in.empty = n == 0
	if in.o.JSON {
		return in.json(map[string]any{"purged": n})
	}
	fmt.Fprintf(in.out, "purged %d records\n", n)
	return nil
}
