// Package everyspec reads "every <duration>", the text of an interval
// schedule (schedule.Every's String), and finds its ticks: whole multiples
// of the interval since the Unix epoch. Package schedule runs such
// schedules; the operator views (internal/rows, for the CLI and the web
// view) show their next tick from it without importing the executor.
package everyspec
