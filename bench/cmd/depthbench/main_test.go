package main

import (
	"slices"
	"testing"

	"github.com/taskware/taskware/bench"
)

func TestParseDepths(t *testing.T) {
	got, err := parseDepths("20000, 200000,1000000")
	if err != nil || !slices.Equal(got, []int{20000, 200000, 1000000}) {
		t.Fatalf("parseDepths = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "-5", "20k", "1,,2"} {
		if _, err := parseDepths(bad); err == nil {
			t.Errorf("parseDepths(%q) took it", bad)
		}
	}
}

func TestGrownNamesTheCommandThatGrew(t *testing.T) {
	one := func(tasks int, cmds map[string]bench.CommandStat) []drain {
		return []drain{{res: bench.DrainResult{Tasks: tasks}, cmds: cmds}}
	}
	base := one(10, map[string]bench.CommandStat{"hset": {Calls: 30, Usec: 100}, "zadd": {Calls: 10, Usec: 20}})
	deep := one(100, map[string]bench.CommandStat{"hset": {Calls: 300, Usec: 1000}, "zadd": {Calls: 100, Usec: 900}})
	if got, want := grown(base, deep, 1), "zadd 2.00→9.00"; got != want {
		t.Errorf("grown = %q, want %q", got, want)
	}
	if got, want := grown(base, base, 1), "hset 10.00→10.00"; got != want {
		t.Errorf("grown at the baseline = %q, want the largest, %q", got, want)
	}
}
