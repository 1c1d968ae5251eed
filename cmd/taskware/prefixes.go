package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// An app that sets its own prefix keeps its keys where the default
// --prefix does not look, and every listing comes out empty. So when a
// command finds nothing, it checks whether its prefix holds any key, and
// if not, says so on stderr (stdout stays one table or JSON document), and
// names the prefixes where it does find taskware's keys.

// The look for prefixes is bounded: a Redis may hold millions of keys.
const (
	prefixScanKeys  = 100_000         // look at this many keys at most
	prefixScanTime  = 2 * time.Second // for this long at most
	prefixScanBatch = 1000            // SCAN's COUNT
	prefixesShown   = 5               // name this many prefixes at most
)

// keyKinds are the words a taskware key has between its prefix and its
// "{": queue:{q}..., lock:{k}, result:{q}:id, sem:{k}, rate:{k}, and the
// stored schedules' schedule:{schedule}:....
var keyKinds = []string{"queue:", "lock:", "result:", "sem:", "rate:", "schedule:"}

// keyPrefix returns the prefix of key if it is shaped like a taskware
// key. A prefix has no braces, so the first "{" follows the kind.
func keyPrefix(key string) (string, bool) {
	head, _, ok := strings.Cut(key, "{")
	if !ok {
		return "", false
	}
	for _, kind := range keyKinds {
		if p, ok := strings.CutSuffix(head, kind); ok {
			return p, true
		}
	}
	return "", false
}

// prefixScan is what a bounded look at a Redis's keys found.
type prefixScan struct {
	// keys counts taskware's keys by prefix.
	keys map[string]int
	// scanned is how many keys were looked at; whole says they were all
	// of them.
	scanned int
	whole   bool
}

// scanPrefixes looks at c's keys, at most maxKeys of them and for maxTime
// at most, and counts those shaped like taskware's by prefix.
func scanPrefixes(ctx context.Context, c redis.Cmdable, maxKeys int, maxTime time.Duration) (prefixScan, error) {
	ctx, cancel := context.WithTimeout(ctx, maxTime)
	defer cancel()
	s := prefixScan{keys: map[string]int{}}
	var cursor uint64
	for s.scanned < maxKeys {
		keys, next, err := c.Scan(ctx, cursor, "", int64(min(prefixScanBatch, maxKeys))).Result()
		if err != nil {
			if ctx.Err() != nil && s.scanned > 0 {
				return s, nil // out of time: what was found so far
			}
			return s, err
		}
		s.scanned += len(keys)
		for _, k := range keys {
			if p, ok := keyPrefix(k); ok {
				s.keys[p]++
			}
		}
		if cursor = next; cursor == 0 {
			s.whole = true
			break
		}
	}
	return s, nil
}

// ranked returns the prefixes found, those most like asked first (the
// longest start in common: a typo shows its fix first), then those with
// the most keys.
func (s prefixScan) ranked(asked string) []string {
	ps := make([]string, 0, len(s.keys))
	for p := range s.keys {
		ps = append(ps, p)
	}
	common := func(p string) int {
		n := 0
		for n < len(p) && n < len(asked) && p[n] == asked[n] {
			n++
		}
		return n
	}
	slices.SortFunc(ps, func(a, b string) int {
		return cmp.Or(common(b)-common(a), s.keys[b]-s.keys[a], strings.Compare(a, b))
	})
	return ps
}

// noteEmpty tells w when in's prefix holds no keys, and where taskware's
// keys are. It is silent when the prefix holds some: then the listing is
// empty because there is nothing to list.
func (in *inspection) noteEmpty(ctx context.Context, w io.Writer) {
	s, err := scanPrefixes(ctx, in.client, prefixScanKeys, prefixScanTime)
	if err != nil {
		fmt.Fprintf(w, "taskware: nothing found; looking for taskware's key prefixes failed: %s\n", visible(err.Error()))
		return
	}
	if s.keys[in.o.Prefix] > 0 {
		return
	}
	among := ""
	if !s.whole {
		among = fmt.Sprintf(" among the %d keys looked at", s.scanned)
	}
	fmt.Fprintf(w, "taskware: no keys under the prefix %s%s\n", quote(in.o.Prefix), among)
	ps := s.ranked(in.o.Prefix)
	if len(ps) == 0 {
		fmt.Fprintf(w, "taskware: nor any of taskware's under another prefix\n")
		return
	}
	fmt.Fprintf(w, "taskware: taskware's keys are under these prefixes; say which with --prefix:\n")
	for _, p := range ps[:min(len(ps), prefixesShown)] {
		fmt.Fprintf(w, "  %-24s %s\n", quote(p), keysText(s.keys[p]))
	}
	if len(ps) > prefixesShown {
		fmt.Fprintf(w, "  and %d more\n", len(ps)-prefixesShown)
	}
}

// keysText is "1 key", "2 keys".
func keysText(n int) string {
	if n == 1 {
		return "1 key"
	}
	return fmt.Sprintf("%d keys", n)
}
