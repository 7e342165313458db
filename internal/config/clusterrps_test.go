package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSenderClusterRPS(t *testing.T) {
	load := func(v string) (Config, error) {
		return Load(func(k string) string {
			if k == "SENDER_MAX_RPS_CLUSTER" {
				return v
			}
			return ""
		})
	}
	for v, want := range map[string]int{"": 0, "off": 0, "0": 0, "200": 200, " 1 ": 1, "1000000": 1000000} {
		c, err := load(v)
		require.NoError(t, err, "%q", v)
		require.Equal(t, want, c.SenderClusterRPS, "%q", v)
	}
	for _, v := range []string{"-1", "1.5", "abc", "1000001"} {
		_, err := load(v)
		require.ErrorContains(t, err, "SENDER_MAX_RPS_CLUSTER", "%q", v)
	}
}
