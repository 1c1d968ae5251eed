package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunRejectsBadUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad flag", []string{"demo", "--bogus"}, "flag provided but not defined: --bogus"},
		{"bad flag value", []string{"demo", "--tasks", "many"}, `invalid value "many"`},
		{"tasks below 1", []string{"demo", "--tasks", "0"}, "--tasks must be at least 1"},
		{"stray argument", []string{"demo", "extra"}, `unexpected argument "extra"`},
		{"bad redis URL", []string{"demo", "--redis", "::"}, "--redis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &out, io.Discard)
			if _, ok := errors.AsType[usageError](err); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run(%q) = %v, want a usage error containing %q", tc.args, err, tc.want)
			}
			if code := exitCode(err, &stderr); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "usage: taskware") {
				t.Errorf("stderr lacks the error or the usage:\n%s", stderr.String())
			}
			if out.Len() != 0 {
				t.Errorf("printed on out:\n%s", out.String())
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"demo", "-h"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, io.Discard); err != nil {
			t.Errorf("run(%q) = %v, want nil", args, err)
		}
		if !strings.Contains(out.String(), "usage: taskware") || !strings.Contains(out.String(), "-redis URL") {
			t.Errorf("run(%q) printed no usage:\n%s", args, out.String())
		}
	}
}

func TestExitCode(t *testing.T) {
	var stderr bytes.Buffer
	if code := exitCode(nil, &stderr); code != 0 || stderr.Len() != 0 {
		t.Errorf("exitCode(nil) = %d, printed %q; want 0 and nothing", code, stderr.String())
	}
	if code := exitCode(errors.New("boom"), &stderr); code != 1 || !strings.Contains(stderr.String(), "taskware: boom") {
		t.Errorf("exitCode(boom) = %d, printed %q; want 1 and the error", code, stderr.String())
	}
}
