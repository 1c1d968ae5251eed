package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/taskware/taskware/queue"
)

// confirmWorkflow asks before an action on a workflow, from its page:
// retry-step (the step that failed it, &step=S) or cancel-workflow.
func (h *handler) confirmWorkflow(ctx context.Context, do string, q url.Values) (*confirmData, error) {
	name, id := q.Get("queue"), q.Get("id")
	if queue.ValidateName(name) != nil || id == "" {
		return nil, &httpError{http.StatusBadRequest, "Say which workflow: ?queue=&id=."}
	}
	st, err := h.readWorkflow(ctx, name, id)
	if err != nil {
		return nil, err
	}
	d := &confirmData{Action: do, Fields: [][2]string{{"queue", name}, {"id", id}}, Back: workflowPage(name, id),
		Details: [][2]string{{"Workflow", st.ID}, {"Name", orDash(st.Name)}, {"Status", string(st.Status)},
			{"Progress", fmt.Sprintf("%d/%d steps ended", st.Ended, st.Steps)}}}
	switch do {
	case "retry-step":
		step := q.Get("step")
		if step == "" {
			return nil, &httpError{http.StatusBadRequest, "Say which step: ?step=."}
		}
		d.Fields = append(d.Fields, [2]string{"step", step})
		d.Details = append(d.Details, [2]string{"Failed step", orDash(st.FailedStep)}, [2]string{"Error", orDash(st.Error)})
		d.Button = "Retry the step"
		d.Possible = st.Status == queue.Failed && st.FailedStep == step
		switch {
		case d.Possible:
			d.Question = fmt.Sprintf("Run step %s of workflow %s again? It runs from attempt 1, the steps its failure canceled wait for it again, and the workflow resumes.", step, id)
		case st.Status != queue.Failed:
			d.Question = fmt.Sprintf("Workflow %s is %s: only a failed workflow's failed step is retried.", id, st.Status)
		default:
			d.Question = fmt.Sprintf("Step %s did not fail workflow %s: step %s did.", step, id, st.FailedStep)
		}
	case "cancel-workflow":
		d.Button = "Cancel the workflow"
		d.Possible = !st.Terminal()
		d.Question = fmt.Sprintf("Cancel workflow %s? Its steps not started never run; the workers running its steps are told to stop them.", id)
		if !d.Possible {
			d.Question = fmt.Sprintf("Workflow %s has ended (%s): there is nothing to cancel.", id, st.Status)
		}
	}
	return d, nil
}

// formWorkflow reads the form's queue and workflow id, both required.
func formWorkflow(r *http.Request) (name, id string, err error) {
	if name, err = requiredQueue(r); err != nil {
		return "", "", err
	}
	if id = r.PostFormValue("id"); id == "" {
		return "", "", &httpError{http.StatusBadRequest, "Say which workflow: the form has no id."}
	}
	return name, id, nil
}

// retryStep runs the form's step, the one that failed its workflow, again.
func (h *handler) retryStep(r *http.Request) (string, error) {
	name, id, err := formWorkflow(r)
	if err != nil {
		return "", err
	}
	step := r.PostFormValue("step")
	if step == "" {
		return "", &httpError{http.StatusBadRequest, "Say which step: the form has no step."}
	}
	err = h.src.Queue.RetryStep(r.Context(), name, id, step)
	switch {
	case errors.Is(err, queue.ErrNotRetryable):
		return "", &httpError{http.StatusConflict, fmt.Sprintf("Step %s is not the failed step of failed workflow %s.", step, id)}
	case errors.Is(err, queue.ErrNotFound):
		return "", &httpError{http.StatusNotFound, fmt.Sprintf("No workflow %s with a step %s on queue %s.", id, step, name)}
	case err != nil:
		return "", err
	}
	return to("workflow", url.Values{"queue": {name}, "id": {id},
		"notice": {h.signNotice(url.Values{"notice": {"retried-step"}, "step": {step}})}}), nil
}

// cancelWorkflow cancels the form's workflow.
func (h *handler) cancelWorkflow(r *http.Request) (string, error) {
	name, id, err := formWorkflow(r)
	if err != nil {
		return "", err
	}
	c, err := h.src.Queue.CancelWorkflow(r.Context(), name, id)
	if errors.Is(err, queue.ErrNotFound) {
		return "", &httpError{http.StatusNotFound, fmt.Sprintf("No workflow %s on queue %s.", id, name)}
	}
	if err != nil {
		return "", err
	}
	n := url.Values{"notice": {"canceled-workflow"}, "n": {strconv.Itoa(c.Canceled)}, "sent": {strconv.Itoa(c.Sent)}}
	if c.Ended {
		n.Set("ended", "1")
	}
	return to("workflow", url.Values{"queue": {name}, "id": {id}, "notice": {h.signNotice(n)}}), nil
}

// workflowNotice is the sentence of a workflow action's notice, "" if q
// is none.
func workflowNotice(q url.Values) string {
	switch q.Get("notice") {
	case "retried-step":
		return fmt.Sprintf("Step %s runs again, from attempt 1; the workflow resumes from it.", q.Get("step"))
	case "canceled-workflow":
		if q.Get("ended") == "1" {
			return "Too late: the workflow had ended already."
		}
		return fmt.Sprintf("Canceled the workflow: %s steps canceled, %s running told to stop.", q.Get("n"), q.Get("sent"))
	}
	return ""
}
