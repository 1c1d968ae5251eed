package taskotel

import (
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// System is the value of messaging.system on every span made here.
const System = "taskware"

// The attributes of this package's own, beside those of the OpenTelemetry
// messaging semantic conventions (messaging.system,
// messaging.operation.type and .name, messaging.destination.name,
// messaging.message.id, messaging.message.body.size,
// messaging.batch.message_count, error.type).
const (
	// TaskNameKey is the task's registered name, on both spans.
	TaskNameKey = attribute.Key("taskware.task.name")
	// TaskAttemptKey is the run's attempt, 1 on the first, on consumer
	// spans.
	TaskAttemptKey = attribute.Key("taskware.task.attempt")
	// TaskOutcomeKey is how the run ended, on consumer spans: one of the
	// Outcome values.
	TaskOutcomeKey = attribute.Key("taskware.task.outcome")
	// SkipReasonKey is the kind of a skip's reason (task.KindOf), such as
	// "lock.locked" or "middleware.expired", on the consumer span of a
	// skipped run and on its skip event.
	SkipReasonKey = attribute.Key("taskware.skip.reason")
	// SkipMessageKey is the skip's reason as text, on the skip event.
	SkipMessageKey = attribute.Key("taskware.skip.message")
	// LockKeysKey lists the keys of the locks the run asked for, in order
	// (task.Invocation.Locks), taken or not, on consumer spans.
	LockKeysKey = attribute.Key("taskware.lock.keys")
	// LockFencesKey lists the fencing tokens of those locks, in the same
	// order; 0 for a lock that was not taken.
	LockFencesKey = attribute.Key("taskware.lock.fences")
	// LockLostKey is true on the consumer span of a run that lost a lease
	// while it ran; absent otherwise.
	LockLostKey = attribute.Key("taskware.lock.lost")
	// DuplicateKey is true on the producer span of a message refused
	// because its ID was known (queue.ErrDuplicate); absent otherwise.
	DuplicateKey = attribute.Key("taskware.enqueue.duplicate")
)

// The values of TaskOutcomeKey.
const (
	// OutcomeSucceeded: the run returned no error.
	OutcomeSucceeded = "succeeded"
	// OutcomeFailed: the run failed, and is not retried by its chain. The
	// span's status is an error.
	OutcomeFailed = "failed"
	// OutcomeRetry: the run failed, and its chain asked for a retry
	// (middleware.Retry). The span's status is an error.
	OutcomeRetry = "retry"
	// OutcomeSkipped: the run was deliberately not done (task.IsSkipped).
	// Not an error.
	OutcomeSkipped = "skipped"
	// OutcomeRescheduled: the run was put back without counting as an
	// attempt, because its lock was held (middleware.RescheduleLocked).
	// Not an error.
	OutcomeRescheduled = "rescheduled"
)

// SkipEvent is the name of the event a skipped or rescheduled run's span
// gets, with SkipReasonKey and the reason's message.
const SkipEvent = "taskware.skipped"

var (
	systemAttr   = semconv.MessagingSystemKey.String(System)
	sendAttrs    = []attribute.KeyValue{semconv.MessagingOperationTypeSend, semconv.MessagingOperationName("send")}
	processAttrs = []attribute.KeyValue{semconv.MessagingOperationTypeProcess, semconv.MessagingOperationName("process")}
	errorTypeKey = semconv.ErrorTypeKey
)
