package lockerstate

// Lease returns the slot of a *lock.Lease that holds its Locker's own
// state; nil until package lock is initialized, which any caller that has
// a lease imports.
var Lease func(lease any) *any

// Permit returns the slot of a *limit.Permit that holds its Semaphore's
// own state, as Lease does for a lease; set by package limit.
var Permit func(permit any) *any
