package worker

import (
	"strconv"
	"strings"
)

// Queues sets the queues to take tasks from (queue.Default), each with a
// weight if its name ends in "=<weight>": Queues("critical=6",
// "default=3", "low=1") takes 6 tasks in 10 from critical, 3 from default,
// 1 from low, interleaved, as long as each has tasks: the weights hold per
// task, whatever the size of a take (a take of several tasks takes from
// each queue its share, one round trip a queue; a queue with none costs
// one poll, its share going to the others). Without weights, each queue
// is taken from in turn. See StrictPriority for the other way.
//
// A weight that does not read as a number from 1 to 1000 makes New panic
// with an error matching task.ErrInvalidConfig.
func Queues(names ...string) Option {
	return optionFunc(func(w *Worker) {
		var err error
		if w.queues, w.weights, err = parseWeights(names); err != nil {
			panic(err)
		}
	})
}

// StrictPriority takes from the queues in the order Queues names them: a
// queue is taken from only when every queue before it has no task ready.
// Weights are ignored. Lower queues can starve; a task that arrives on one
// while all were empty waits up to PollWait divided by the number of
// queues.
func StrictPriority() Option { return optionFunc(func(w *Worker) { w.strict = true }) }

// parseWeights splits "name=weight" names: a name without "=" weighs 1;
// after its last "=", a weight must read as a number from 1 to 1000, or
// the wiring is refused.
func parseWeights(names []string) ([]string, []int, error) {
	queues, weights := make([]string, len(names)), make([]int, len(names))
	for i, name := range names {
		queues[i], weights[i] = name, 1
		j := strings.LastIndexByte(name, '=')
		if j < 0 {
			continue
		}
		n, err := strconv.Atoi(name[j+1:])
		if err != nil || n < 1 || n > 1000 || j == 0 {
			return nil, nil, configError("Queues(%q): want a name, or name=weight with a weight from 1 to 1000", name)
		}
		queues[i], weights[i] = name[:j], n
	}
	return queues, weights, nil
}

// takeOrder is the order the worker takes from its queues in, by index: a
// smooth weighted round robin, each queue as often as its weight, spread
// out.
func takeOrder(weights []int) []int {
	total := 0
	for _, wt := range weights {
		total += wt
	}
	order := make([]int, 0, total)
	current := make([]int, len(weights))
	for range total {
		best := 0
		for i, wt := range weights {
			current[i] += wt
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		order = append(order, best)
	}
	return order
}

// turns walks the weighted round robin of takeOrder, a turn per task.
type turns struct {
	order []int // queue indexes, see takeOrder
	at    int
	count []int // what next returns, reused
}

func newTurns(weights []int) *turns {
	return &turns{order: takeOrder(weights), count: make([]int, len(weights))}
}

// next takes the next n turns and returns how many fell to each queue, by
// index. The slice is reused by the next call.
func (t *turns) next(n int) []int {
	clear(t.count)
	for range n {
		t.count[t.order[t.at]]++
		t.at = (t.at + 1) % len(t.order)
	}
	return t.count
}

// peek returns the queue of the next turn, without taking it.
func (t *turns) peek() int { return t.order[t.at] }
