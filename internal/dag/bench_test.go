package dag

import "testing"

// BenchmarkPlace lays out the graphs the web view draws at most (500
// steps): a fan-out with a fan-in, and a chain whose every step also
// hangs from the root, the worst for edges over many layers.
func BenchmarkPlace(b *testing.B) {
	const n = 500
	fan := [][]int{{}}
	all := []int{}
	for i := 1; i < n-1; i++ {
		fan = append(fan, []int{0})
		all = append(all, i)
	}
	fan = append(fan, all)
	chain := [][]int{{}}
	for i := 1; i < n; i++ {
		chain = append(chain, []int{0, i - 1})
	}
	for _, g := range []struct {
		name    string
		parents [][]int
	}{{"fan", fan}, {"chain-from-root", chain}} {
		b.Run(g.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Place(g.parents, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
