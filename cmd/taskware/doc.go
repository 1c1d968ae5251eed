// Command taskware is taskware's command line.
//
// Its first command, demo, shows the problem taskware exists to solve: one
// task, run 50 times at once, contends for one lock under three policies,
// and the demo prints what each policy tells its callers and what it leaves
// in the result store:
//
//	go run ./cmd/taskware demo                      # on an embedded miniredis
//	go run ./cmd/taskware demo --redis redis://127.0.0.1:6379/0
//
// With --redis, every key the demo writes starts with a random prefix
// ("taskware-demo:<random>:"), and the demo deletes them when it ends.
package main
