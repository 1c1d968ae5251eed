// Package backoff is the one place taskware computes pauses between tries:
// exponential, capped, and jittered down so that many waiters spread out.
package backoff
