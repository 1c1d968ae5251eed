// Package humantime shows durations as a reader wants them, for the
// command line's tables and the web view alike.
package humantime
