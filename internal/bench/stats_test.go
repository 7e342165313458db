package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMedianInterval(t *testing.T) {
	_, _, _, ok := medianInterval([]float64{1, 2, 3, 4, 5})
	require.False(t, ok, "5 values cannot give 95 %: the median is outside all of them with chance 1/16")

	// 6 values: the smallest and the largest, 1 - 2/64.
	lo, hi, conf, ok := medianInterval([]float64{6, 1, 5, 2, 4, 3})
	require.True(t, ok)
	require.Equal(t, []float64{1, 6}, []float64{lo, hi})
	require.InDelta(t, 1-2.0/64, conf, 1e-12)

	// 9 values: the 2nd of each end, 1 - 2·10/512.
	lo, hi, conf, ok = medianInterval([]float64{90, 10, 80, 20, 70, 30, 60, 40, 50})
	require.True(t, ok)
	require.Equal(t, []float64{20, 80}, []float64{lo, hi})
	require.InDelta(t, 1-2*10.0/512, conf, 1e-12)

	// 36 values: the 12th of each end, 1 - 2·P(B ≤ 11) = 0.9712; the 13th
	// would give 1 - 2·P(B ≤ 12) = 0.9349, under 95 %.
	v := make([]float64, 36)
	for i := range v {
		v[i] = float64(36 - i)
	}
	lo, hi, conf, ok = medianInterval(v)
	require.True(t, ok)
	require.Equal(t, []float64{12, 25}, []float64{lo, hi})
	require.InDelta(t, 0.9712, conf, 0.0001)
}
