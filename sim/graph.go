package sim

import (
	"math/rand/v2"
	"slices"
)

// Graph is an undirected graph over node indexes, as adjacency sets.
type Graph [][]int

// RandomGraph connects the given nodes so that each has about degree neighbours: a random ring
// first (so the graph is connected), then random chords between nodes still below degree. It
// never adds self loops or duplicate edges. n is the total number of nodes (the adjacency size).
func RandomGraph(rng *rand.Rand, n int, members []int, degree int) Graph {
	g := make(Graph, n)
	m := slices.Clone(members)
	rng.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
	degree = min(degree, len(m)-1)
	if len(m) < 2 {
		return g
	}
	has := map[[2]int]bool{}
	add := func(a, b int) bool {
		if a == b || has[[2]int{a, b}] {
			return false
		}
		has[[2]int{a, b}], has[[2]int{b, a}] = true, true
		g[a] = append(g[a], b)
		g[b] = append(g[b], a)
		return true
	}
	for i := range m {
		if len(m) == 2 && i == 1 {
			break
		}
		add(m[i], m[(i+1)%len(m)])
	}
	// Chords: repeatedly pair random under-degree nodes; bounded attempts keep it finite when
	// the last few cannot be paired.
	lowNodes := func() []int {
		var low []int
		for _, v := range m {
			if len(g[v]) < degree {
				low = append(low, v)
			}
		}
		return low
	}
	low := lowNodes()
	for attempts := 0; attempts < 50*len(m)*degree && len(low) >= 2; attempts++ {
		if add(low[rng.IntN(len(low))], low[rng.IntN(len(low))]) {
			low = lowNodes()
		}
	}
	for v := range g {
		slices.Sort(g[v])
	}
	return g
}

// Edges lists each edge once as (a, b) with a < b.
func (g Graph) Edges() [][2]int {
	var out [][2]int
	for a, ns := range g {
		for _, b := range ns {
			if a < b {
				out = append(out, [2]int{a, b})
			}
		}
	}
	return out
}

// Connected reports whether all of members are reachable from the first.
func (g Graph) Connected(members []int) bool {
	if len(members) == 0 {
		return true
	}
	seen := map[int]bool{members[0]: true}
	stack := []int{members[0]}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range g[v] {
			if !seen[w] {
				seen[w] = true
				stack = append(stack, w)
			}
		}
	}
	for _, v := range members {
		if !seen[v] {
			return false
		}
	}
	return true
}
