package main

import (
	"math"
	"slices"
)

// medianInterval returns a distribution-free confidence interval of at
// least 95 % for the median of what v samples: the k-th smallest and the
// k-th largest values, with k the largest for which the chance that the
// median lies outside them, 2·P(Binomial(n, ½) < k), stays at most 5 %. It
// also returns that interval's confidence; ok is false when v is too short
// for any (fewer than 6 values).
func medianInterval(v []float64) (lo, hi, confidence float64, ok bool) {
	n := len(v)
	k, below := 0, 0.0 // below = P(Binomial(n, ½) < k)
	for {
		next := below + binomialHalf(n, k)
		if 1-2*next < 0.95 || k+1 > n-k {
			break
		}
		k, below = k+1, next
	}
	if k == 0 {
		return 0, 0, 0, false
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[k-1], s[n-k], 1 - 2*below, true
}

// binomialHalf is P(Binomial(n, ½) = i).
func binomialHalf(n, i int) float64 {
	lg := func(x int) float64 { r, _ := math.Lgamma(float64(x + 1)); return r }
	return math.Exp(lg(n) - lg(i) - lg(n-i) - float64(n)*math.Ln2)
}
