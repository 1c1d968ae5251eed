package worker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// A workflow's event is logged as the workflow's, not a task's: its
// message says so, and it names the workflow and the step that ended it;
// a failed workflow is an error. A step's own event names its workflow.
func TestLogWorkflowEvents(t *testing.T) {
	for _, c := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: EventWorkflowFailed, Queue: "q", Workflow: "wf1", Step: "b", Worker: "w1"},
			`level=ERROR msg="workflow failed" queue=q workflow=wf1 step=b worker=w1`},
		{Event{Kind: EventWorkflowStarted, Queue: "q", Workflow: "wf1"},
			`level=INFO msg="workflow started" queue=q workflow=wf1`},
		{Event{Kind: EventSucceeded, Task: "t", Queue: "q", ID: "wf1:b", Attempt: 1, Workflow: "wf1", Step: "b"},
			`level=INFO msg="task succeeded" task=t queue=q id=wf1:b attempt=1 workflow=wf1 step=b`},
	} {
		var buf bytes.Buffer
		l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
		loggerOption{l}.log(c.e)
		if got := strings.TrimSpace(buf.String()); got != c.want {
			t.Errorf("log of %s:\n got  %s\n want %s", c.e.Kind, got, c.want)
		}
	}
}
