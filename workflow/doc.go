// Package workflow runs DAGs of tasks: chains, groups, fan-ins and any
// dependencies between them, each step released exactly once.
//
// A workflow is a static DAG of steps, each an ordinary typed task
// (*task.Task[A, R]) with its own middlewares: its own retries, timeout,
// lock. A [Builder] collects the steps, and functions add them, typed, so
// that a child's argument fits its parent's result at compile time:
//
//	w := workflow.New("invoice", workflow.OnQueue("billing"))
//	order := workflow.Start(w, fetch, FetchArgs{ID: 7})     // a root
//	priced := workflow.Then(w, order, price)                // price: *task.Task[Order, Priced]
//	pages := workflow.Group(w, render, []Page{p1, p2, p3})  // roots, run in parallel
//	pdf := workflow.Join(w, pages, merge)                   // merge: *task.Task[[]PDF, PDF]
//	sent := workflow.Add(w, mail, MailArgs{To: "a@b"},      // any shape: fields set from parents
//		workflow.Input("Priced", priced), workflow.Input("PDF", pdf))
//	def, err := workflow.Build(w, sent)                     // sent's result is the workflow's
//	h, err := workflow.Enqueue(ctx, client, def, workflow.ID("inv-7"))
//	res, err := h.Get(ctx)
//
// [Then] hands a parent's result to its child, [Join] the results of
// several, in their order, and [ThenOutcome] and [JoinOutcomes] their
// outcomes (task.Upstream: the result or the error), whatever the
// parents did. [Add] takes a struct whose fields [Input] sets from
// parents, and [After] and [Order] add edges that carry no data. [Build]
// refuses what the compiler cannot: a cycle ([ErrCycle], with its path),
// an Input field that does not fit or a parent whose codec is not its
// child's ([ErrTypeMismatch]), bad, duplicate or foreign steps. A [Def]
// is built once and enqueued as often as wanted.
//
// [Enqueue] stores the whole workflow in one call to the queue: every
// step, the roots queued, the others waiting. The client must have the
// queue's workflow side (worker.WithWorkflows). A [Handle]'s Get waits
// for the output step's result; State lists every step; Cancel and Retry
// act on the workflow.
//
// Every step's task must be registered with worker.Register on the
// workers of the step's queue, as any task is: a step is a message of
// that task, and a worker that does not know it dead-letters it
// (worker.ErrUnknownTask), which fails the workflow.
//
// # Exactly once
//
// The finish that ends a step releases its children in the same atomic
// operation of the queue (one script, on Redis): the step's end, its
// result recorded as each child's input, and the children whose parents
// have now all ended queued. A finish sent again after a lost reply, or
// the late finish of a run that the queue took over (runs are at least
// once), releases nothing and counts no parent twice. A crash between two
// steps loses nothing: there is no "between". A step runs at least once,
// as any task; its children are released exactly once.
//
// # Failure
//
// A step fails when its own chain gives up (its retries are its own
// middlewares'; only the final outcome counts). A failed, dead or
// canceled step fails the workflow at once: the steps still waiting, and
// those queued and not started, end canceled (kind
// queue.KindWorkflowFailed); those running finish, and their children are
// then canceled. Get returns an [*Error] that names the step and matches
// [ErrFailed] and the step's error. [Handle.Retry] runs the failed step
// again, the steps its failure canceled go back to wait, and the workflow
// resumes; the steps that succeeded do not run again.
//
// A step whose children all take its outcome (ThenOutcome,
// JoinOutcomes, an Add whose every Input is a task.Upstream field) does
// not fail the workflow: its children run, and see its error. A step
// that takes outcomes runs whatever its parents did, those of After and
// Order included.
//
// A skip (middleware.SkipLocked finding its lock held, an expired run)
// is no failure: the step is done, without a result. A child that needs
// its parents to succeed says with [IfSkipped] what that means for it:
// queue.SkipToo (the default) skips it too, and so on down the graph;
// queue.RunWithout runs it with the zero value (a Join leaves the skipped
// parent out); queue.FailIfSkipped fails it, and so the workflow. A child
// that takes outcomes runs, and sees the skip (task.ErrSkipped). A
// workflow whose output step was skipped succeeds, and Get returns an
// error matching task.ErrSkipped.
//
// [Handle.Cancel] cancels the whole workflow: its steps not started
// never run, those running have their context canceled, and Get returns
// an error matching queue.ErrCanceled.
//
// # Queues
//
// Steps go to the workflow's queue (New's OnQueue), or each to its own
// (a step's OnQueue). On Redis Cluster a workflow's steps must share one
// queue for now: its keys then share one slot, and every release is one
// script.
package workflow
