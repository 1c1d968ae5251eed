package worker

import (
	"slices"
	"testing"
)

func TestParseWeights(t *testing.T) {
	queues, weights := parseWeights([]string{"critical=6", "default", "low=1", "odd=x", "big=1001", "eq=3=2"})
	if want := []string{"critical", "default", "low", "odd=x", "big=1001", "eq=3"}; !slices.Equal(queues, want) {
		t.Errorf("queues %q, want %q", queues, want)
	}
	if want := []int{6, 1, 1, 1, 1, 2}; !slices.Equal(weights, want) {
		t.Errorf("weights %v, want %v", weights, want)
	}
}

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
