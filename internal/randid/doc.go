// Package randid makes random identifiers for task IDs and lock tokens.
package randid
