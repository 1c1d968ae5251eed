// Package lockerstate lets a backend keep state of its own with each lease
// (lock.Lease) and permit (limit.Permit) it hands out, so that releasing or
// refreshing one finds its key and command arguments without building
// them again, while the public types show no field for it. Packages lock
// and limit set the accessors when they are initialized; only taskware's
// own packages can import this one.
package lockerstate
