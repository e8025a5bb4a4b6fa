package model

import "slices"

// orderLanes chooses the order of the user networks' lanes so that a
// container on several networks finds them side by side: its rail then
// joins neighbouring lanes instead of passing over lanes it is not on.
// It returns, for each new position, the lane's index in lanes, or nil
// when the order by name stands. lanes come in OrderedNetworks' order:
// the user networks first, by name, then the built-in ones, which keep
// their place at the bottom.
//
// The order is built greedily, which is cheap and deterministic: a chain
// starts from the first lane (by name) not yet placed and grows, at
// either end, by the lane sharing the most containers with that end; a
// lane sharing containers only with the chain's middle joins its end;
// when no lane shares any, the chain is done and the next one starts.
// Ties go to the lane first by name, and each chain reads with its lane
// first by name on top, so the screen does not jump when a container
// comes or goes unless the sharing itself changes.
func orderLanes(lanes []Network, cols []placed) []int {
	n := 0
	for n < len(lanes) && builtInRank(lanes[n]) == 0 {
		n++
	}
	if n < 3 {
		return nil // two lanes are always side by side
	}
	shared := make([]int, n*n)
	some := false
	for _, p := range cols {
		for i, a := range p.lanes {
			for _, b := range p.lanes[i+1:] {
				if a < n && b < n {
					shared[a*n+b]++
					shared[b*n+a]++
					some = true
				}
			}
		}
	}
	if !some {
		return nil
	}
	out := make([]int, 0, len(lanes))
	done := make([]bool, n)
	for start := 0; start < n; start++ {
		if done[start] {
			continue
		}
		done[start] = true
		chain := []int{start}
		for {
			next, front := bestNext(shared, n, done, chain)
			if next < 0 {
				break
			}
			done[next] = true
			if front {
				chain = slices.Insert(chain, 0, next)
			} else {
				chain = append(chain, next)
			}
		}
		if chain[len(chain)-1] < chain[0] {
			slices.Reverse(chain)
		}
		out = append(out, chain...)
	}
	changed := false
	for i, lane := range out {
		changed = changed || i != lane
	}
	if !changed {
		return nil
	}
	for i := n; i < len(lanes); i++ {
		out = append(out, i)
	}
	return out
}

// bestNext picks the lane not yet done that shares the most containers
// with an end of the chain (the back before the front on a tie), else one
// that shares any with the chain's middle (it joins the back); -1 when
// none shares any.
func bestNext(shared []int, n int, done []bool, chain []int) (lane int, front bool) {
	back, head := chain[len(chain)-1], chain[0]
	lane, best := -1, 0
	for u := range n {
		if done[u] {
			continue
		}
		if s := shared[back*n+u]; s > best {
			lane, best, front = u, s, false
		}
		if s := shared[head*n+u]; s > best {
			lane, best, front = u, s, true
		}
	}
	if lane >= 0 {
		return lane, front
	}
	for u := range n {
		if done[u] {
			continue
		}
		for _, c := range chain {
			if shared[c*n+u] > 0 {
				return u, false
			}
		}
	}
	return -1, false
}
