// Package web is a web view of a taskware backend: its queues, tasks,
// dead letters, locks, results and workers, with the repairs an operator
// makes (pause and resume a queue, cancel a task, requeue or purge dead
// letters, break a lock, purge results). It is an http.Handler to mount
// in any server, under any path; `taskware web` serves it on its own.
//
// The pages are rendered on the server with html/template, which escapes
// everything they show; a little plain JavaScript, served by the handler
// itself, updates their numbers in place every few seconds from the
// pages' JSON and asks before a purge or a cancel. Every page works
// without it. Nothing is loaded from anywhere else: no CDN, no build step.
//
// # Mounting
//
// Every link, form and redirect is relative, so the handler works under
// any prefix: strip the prefix and give the handler the rest, and make sure
// the view's root is reached with its trailing slash (a ServeMux pattern
// ending in "/" redirects to it):
//
//	mux.Handle("/admin/tasks/", http.StripPrefix("/admin/tasks", web.New(web.FromBackend(b))))
//
// Source is what the view reads and changes, as interfaces (a queue.Queue,
// a lock.Inspector, a store.Store); FromBackend fills it from a backend.
//
// # Paths
//
// Relative to where the handler is mounted. Pages (GET):
//
//	[?window=W]     overview: each queue's ready, running, delayed and dead
//	                tasks, the oldest ready one's wait, live workers, paused;
//	                each queue's outcomes charted over W: 15m (by minute,
//	                the default), 1h (by minute) or 24h (by quarter hour)
//	tasks?queue=Q&state=S[&FIND]
//	                a page of a queue's tasks in state S: ready, running,
//	                delayed, dead or finished, with links to the first,
//	                previous and next pages; rows selected are canceled
//	                (ready, running, delayed), requeued, retried or purged
//	                (dead), or retried (finished: the failed and dead ones)
//	                together
//	task?queue=Q&id=ID
//	                one task (without queue: looked for in every queue)
//	workflows?queue=Q[&status=S][&limit=N][&after=C&prev=...]
//	                a page of the workflows whose home is Q, newest first,
//	                of status S (running, succeeded, failed or canceled),
//	                N a page (100 by default, 500 at most), paged as FIND
//	                says; each links to workflow?queue=Q&id=ID
//	workflow?queue=Q&id=ID
//	                one workflow (Q is its home queue): its status,
//	                progress and failure, its steps drawn as a graph
//	                (inline SVG, laid out by internal/dag: a box per step,
//	                coloured by its state and saying it, linked to its
//	                task's page; past 500 steps, a box per layer with its
//	                steps counted by state), and a table of the steps;
//	                live while the workflow runs
//	dead[?queue=Q]  dead letters, with their reasons
//	locks           the locks held
//	results[?FIND]  stored records by queue and status, and a page of the
//	                latest ones (FIND: q searches IDs, task names and
//	                errors; status is succeeded, failed or skipped)
//	workers[?queue=Q]
//	                the workers each queue knows of
//	schedules       the entries stored in the backend (schedule.Stored
//	                runs them): schedule, task, queue, arguments, paused,
//	                since and next tick, with Pause, Resume and Remove;
//	                and the entries of the schedulers that publish them
//	                (schedule.Publish): schedule, task, queue, next and
//	                last tick, missed ticks
//	redis           the Redis server (version, mode, uptime, memory,
//	                clients, ops, keyspace) and taskware's keys by kind;
//	                "not a Redis backend" on others (queue.Server)
//	confirm?do=...  asks before a change: do=break&key=K;
//	                do=requeue|purge&queue=Q (all of the queue's dead
//	                letters, or those of each id=ID, listed);
//	                do=cancel|retry&queue=Q&id=ID... (the tasks listed);
//	                do=purge-results&queue=Q or &all=1; and from a
//	                task's page do=retry|cancel|purge-record&queue=Q&id=ID,
//	                do=requeue|purge&queue=Q&id=ID&back=task; and from a
//	                workflow's page do=retry-step&queue=Q&id=ID&step=S,
//	                do=cancel-workflow&queue=Q&id=ID; and from the
//	                schedules page do=pause-schedule|resume-schedule|
//	                remove-schedule&name=N
//	static/...      style.css and app.js
//
// FIND is what a listing finds, kept in its URL so that it can be linked
// to: q (a search of task IDs, task names and argument text, ignoring
// case), task (a task name), status, kind (an error kind), since and
// until (UTC, 2006-01-02T15:04), limit (per page: 100 by default, 1000
// at most), after (the cursor of the page, from its "next" link; one
// the backend did not make is a 400) and prev (repeated: the cursors of
// the pages before, oldest first, "" for the first page). Cursors lead
// forward only, so the "next" link carries the trail back: the
// "previous" link follows it, and past 20 pages it drops the oldest, so
// that "previous" leads back to where the trail starts, and "first" to
// the first page. A cursor is the place of the last
// row, so a listing pages through tasks added and removed meanwhile
// without skipping or repeating one (see queue.Admin.ListTasks). A search
// reads at most queue.ScanBudget tasks a page: a page may hold fewer
// matches than its limit, or none, and a "next" link to search on. The
// finished tasks' listing reads every task state of the queue, as
// before: on Redis, its time grows with the queue (about 0.4 s and more
// for 100k task states on a busy machine; TestPagesUnderLoad reports
// it).
//
// JSON (GET): api/overview, api/tasks, api/task, api/workflows, api/workflow,
// api/dead, api/locks, api/results, api/workers, api/schedules and api/redis
// take the parameters of their page and
// return what it shows: snake_case fields, times in RFC 3339 and UTC,
// durations in milliseconds (oldest_ready_ms, idle_ms, remaining_ms). A
// queue, task, lock, worker, record and a queue's record counts have the
// same fields as in the output of `taskware ... --json`. Each has
// "live", a map from the data-live keys of the page's numbers to their
// text, and "rows", the data-row keys of its rows, which the page's
// script compares with its own to say "this list changed". The task page
// and the task listing also have "bars", a map from the data-bar-live
// keys of running tasks' progress bars to {"value", "max", "text"} (max 0:
// a total not known), which the script shows, moves and hides. An error is
// {"status": code, "error": text}.
//
// Actions (POST, form-encoded, each with the csrf field; each answers 303
// See Other to the page that shows its effect, with a notice: a value of
// ?notice= signed with the handler's key that expires after a minute, so
// a link cannot make a banner claim what never happened):
//
//	pause, resume   queue
//	cancel          queue, id (repeatable: several go back to the tasks page)
//	requeue, purge  queue, and id (repeatable: task IDs or entry IDs) or all=1;
//	                back=task (with one id) to go back to the task's page
//	retry           queue, id: a failed or dead task, enqueued again as a
//	                new task (a new ID) with its arguments and headers;
//	                id is repeatable: several, selected in a listing, go
//	                to the queue's ready tasks, counted (those not there,
//	                or not failed or dead, are counted apart)
//	purge-record    queue, id: the task's stored record
//	retry-step      queue, id, step: the step that failed workflow id
//	                runs again, and the workflow resumes
//	                (queue.Workflows.RetryStep)
//	cancel-workflow queue, id: the workflow and its steps not ended
//	break           key
//	purge-results   queue ("" is that of runs in-process) or all=1
//	pause-schedule, resume-schedule, remove-schedule
//	                name: a stored schedule entry (queue.Schedules), paused
//	                at the backend's clock, resumed from its next tick
//	                (none missed while paused), or removed
//
// # Safety
//
// ReadOnly hides every action and refuses every POST with 403. BasicAuth
// asks for a user and password (compared in constant time); Authorize
// hands each request to the host server's own check. An action is a POST
// only, and is refused with 403 unless it carries the token of its
// CSRF cookie (an HMAC of the cookie's random value under a key the
// handler draws at random when made, so a token is good for one browser
// and one process), and unless its Sec-Fetch-Site, Origin or Referer, if
// sent, say it comes from the view's own host. Every response forbids
// framing and sniffing and has a Content-Security-Policy that allows
// only the handler's own script and style. No page shows a credential:
// the handler is never given one, and Redact hides what a backend's error
// may tell.
//
// # Test hooks
//
// Elements carry data-testid attributes, stable for browser tests. A name
// (queue, task ID, lock key, worker) is put in as it is, attribute-escaped.
//
// Every page: nav-overview, nav-tasks, nav-dead, nav-locks, nav-results,
// nav-workers, nav-schedules, nav-redis; notice (what an action did); changed (shown when rows came
// or went); live-status; read-only (a badge, in read-only mode); error (on
// an error page).
//
// Overview: a row queue-<queue> per queue, with cells ready, running,
// delayed, dead, oldest, workers and paused ("no" or "paused"), and a
// button pause-<queue> or resume-<queue>; no-queues if there is none; a
// form to pause or resume any queue by name (an empty queue is not
// listed), with the field queue-name and the buttons pause-by-name and
// resume-by-name. The window switch windows, with links window-15m,
// window-1h and window-24h. A row of charts rate-<series> per series with
// its total rate-<series>-total, the series being throughput (every
// outcome), succeeded, failed, dead, skipped (every reason),
// skipped_locked and retried; in it a chart chart-<series>-<queue> per
// queue, whose scale's top (scale-top, shared by the row) and bars are
// SVG, a bar per bucket that counts something, titled with its queue,
// time and count; rates-error
// instead when they failed.
//
// Tasks: queue-select, state-select, state-<state> (tabs), listed (how
// many are listed); the search form find with search, filter-task,
// filter-status, filter-kind, filter-since, filter-until and find-submit;
// links page-first, page-previous and page-next; the bulk form bulk with
// bulk-cancel (ready, running, delayed), bulk-requeue, bulk-retry and
// bulk-purge (dead), or bulk-retry (finished, if a row failed or died),
// and the checkboxes select-all and select-<id> (in finished, on the
// failed and dead rows only); a row task-<id> per task with cells name, status,
// running-for (of a running task whose start is recorded), progress (a
// <progress> bar, of a running task that reported some), attempt, kind,
// error, and a button cancel-<id> for a task not ended; no-tasks;
// queue-list when no queue is chosen.
//
// Task: task-id, task-name, task-queue, task-status, task-attempt,
// task-enqueued, task-started, task-finished, task-run-at (delayed only),
// task-worker, task-progress and task-progress-text (a running task's
// report: a <progress> bar and its text), task-deliveries, task-entry,
// task-kind, task-error,
// task-malformed, task-args (the arguments as text), task-headers,
// task-result ("stored", "lost" or "none"); task-record,
// task-record-status, task-record-error, task-record-value for the stored
// record; attempts (the table of runs, oldest first, or a line if none),
// a row attempt-<i> per run (from 0) with cells attempt-number,
// attempt-outcome, attempt-worker, attempt-took, attempt-kind,
// attempt-error, and attempt-stack (a panic's, folded in a <details>);
// task-actions, with the links to their confirm pages action-requeue and
// action-purge (dead), action-retry (failed or dead, its arguments
// known), action-cancel (not ended), action-purge-record (a stored
// record).
//
// A task that is a workflow's step links to its workflow (task-workflow),
// and offers no action-retry: a step is retried from its workflow's page,
// and the retry action refuses it (409).
//
// Workflow: workflow-id, workflow-name, workflow-queue, workflow-status,
// workflow-progress, workflow-created, workflow-finished,
// workflow-failed-step, workflow-kind, workflow-error, workflow-output,
// workflow-result; workflow-actions with action-retry-step (failed) and
// action-cancel-workflow (running); workflow-graph, the SVG, with a link
// step-<name> per step (its data-state the step's status, its text
// step-state the status in words), or past 500 steps a box layer-<n>
// per layer; workflow-steps, the table, a row row-<name> per step with
// cells status, attempt, kind and error; unlisted.
//
// Dead letters: dead-total; per queue a section dead-queue-<queue> with
// dead-count-<queue> and buttons requeue-all-<queue> and purge-all-<queue>
// (to the confirm page); a row dead-<id> per letter (<id> is its task ID,
// or its entry ID if it has none) with cells name, attempt, kind and
// reason, and buttons requeue-<id> and purge-<id>; a link find-dead-<queue>
// to the queue's dead letters in the tasks listing, to search and select
// them; no-dead.
//
// Locks: locks-count; a row lock-<key> per lock, with cells key, holder,
// task (the holder run, linked to its task's page), fence, age and left,
// and a button break-<key> to the confirm page; no-locks, no-locker.
//
// Confirm page: question, and the buttons confirm and back.
//
// Results: results-total; a row results-<queue> per queue with cells
// results-<queue>-succeeded, -failed, -skipped and -total (<queue> is
// empty for runs in-process: results--failed), a button
// purge-results-<queue>, and purge-results-all; rows
// record-<queue>-<id> of the latest records, with the search form and the
// links of the tasks listing (find, page-first, page-previous, page-next);
// no-results, no-store.
//
// Workers: a row worker-<queue>-<name> per worker with cells name,
// pending, idle and live ("yes" or "no"); no-workers.
//
// Schedules: stored-schedules, a row stored-<entry> per stored entry
// with cells name, spec, task, queue, args, state ("running" or
// "paused"), since and next, and links pause-<entry> or resume-<entry>,
// and remove-<entry>, to their confirm pages; no-stored (none stored),
// no-stored-support (a backend that stores none); a row
// schedule-<entry> per published entry with cells name, spec, task,
// queue, next, last, last-status, missed and scheduler; no-schedules.
//
// Redis: not-redis on a backend without a server; version, mode, uptime,
// used-memory, peak-memory, max-memory, clients, ops; a row db-<db> per
// database; a row kind-<kind> per kind of key with its count (≥N when the
// scan stopped at its budget); no-keys.
package web
