package rows

import (
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// A workflow's row, field by field: times in UTC, a running workflow's
// unknown end and failure left out, a root's parents an empty list.
func TestWorkflowDetailJSON(t *testing.T) {
	at := time.Date(2026, 11, 25, 13, 4, 5, 0, time.FixedZone("Paris", 3600))
	st := &queue.WorkflowState{ID: "wf", Name: "words", Queue: "q", Status: queue.Failed, Output: "b", Steps: 2, Ended: 2,
		FailedStep: "b", Kind: "k", Error: "e", CreatedAt: at, FinishedAt: at, StepStates: []queue.StepState{
			{Name: "a", ID: "wf:a", Queue: "q", Task: "t", Status: queue.Succeeded, Attempt: 1},
			{Name: "b", ID: "wf:b", Queue: "q", Task: "t", Status: queue.Failed, Attempt: 2, Kind: "k", Error: "e", Parents: []string{"a"}},
		}}
	want := `{"id":"wf","name":"words","queue":"q","status":"failed","output":"b","steps":2,"ended":2,"failed_step":"b",` +
		`"kind":"k","error":"e","created_at":"2026-11-25T12:04:05Z","finished_at":"2026-11-25T12:04:05Z","step_states":[` +
		`{"name":"a","id":"wf:a","queue":"q","task":"t","status":"succeeded","attempt":1,"parents":[]},` +
		`{"name":"b","id":"wf:b","queue":"q","task":"t","status":"failed","attempt":2,"kind":"k","error":"e","parents":["a"]}]}`
	if got := jsonOf(t, WorkflowDetailOf(st)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	running := &queue.WorkflowState{ID: "wf", Queue: "q", Status: queue.Running, Steps: 1, Result: nil}
	if got := jsonOf(t, WorkflowDetailOf(running)); got != `{"id":"wf","queue":"q","status":"running","steps":1,"ended":0,"step_states":[]}` {
		t.Errorf("running: %s", got)
	}
}
