package worker

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/taskware/taskware/task"
)

func TestParseWeights(t *testing.T) {
	queues, weights, err := parseWeights([]string{"critical=6", "default", "low=1", "eq=3=2", "top=1000"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"critical", "default", "low", "eq=3", "top"}; !slices.Equal(queues, want) {
		t.Errorf("queues %q, want %q", queues, want)
	}
	if want := []int{6, 1, 1, 2, 1000}; !slices.Equal(weights, want) {
		t.Errorf("weights %v, want %v", weights, want)
	}
}

// A weight that is no number from 1 to 1000 is refused at wiring, never
// taken for part of the queue's name.
func TestQueuesRefusesBadWeights(t *testing.T) {
	for _, name := range []string{"critical=abc", "big=1001", "zero=0", "neg=-1", "empty=", "=3"} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, task.ErrInvalidConfig) || !strings.Contains(err.Error(), name) {
					t.Errorf("New(Queues(%q)) panicked with %v, want ErrInvalidConfig naming it", name, err)
				}
			}()
			New(nopConsumer{}, Queues("default", name))
		})
	}
}

// nopConsumer is a Queue that New can be wired with.
type nopConsumer struct{ Queue }

// The order takes from each queue as often as its weight, spread out.
func TestTakeOrder(t *testing.T) {
	order := takeOrder([]int{6, 3, 1})
	if len(order) != 10 {
		t.Fatalf("order %v: %d takes, want 10", order, len(order))
	}
	counts := [3]int{}
	for _, i := range order {
		counts[i]++
	}
	if counts != [3]int{6, 3, 1} {
		t.Fatalf("order %v takes %v times, want 6, 3, 1", order, counts)
	}
	for i := 1; i < len(order); i++ { // the light queues never come twice in a row
		if order[i] != 0 && order[i] == order[i-1] {
			t.Fatalf("order %v is not spread out", order)
		}
	}
	if got := takeOrder([]int{1, 1, 1}); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("equal weights: %v, want round robin", got)
	}
}
