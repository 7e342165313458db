package graph

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
)

// TestHashUploads: a file counts by its content, wherever it sits in the
// arguments, and is rewound for the resolver.
func TestHashUploads(t *testing.T) {
	t.Parallel()
	upload := func(content string) graphql.Upload {
		return graphql.Upload{File: strings.NewReader(content), Filename: "clients.csv", Size: int64(len(content))}
	}
	hash := func(args map[string]any) any {
		h, err := hashUploads(args)
		require.NoError(t, err)
		return h
	}
	a := hash(map[string]any{"file": upload("phone\n79001234567\n"), "mode": "INSERT"})
	b := hash(map[string]any{"file": upload("phone\n79001234567\n"), "mode": "INSERT"})
	c := hash(map[string]any{"file": upload("phone\n79001234568\n"), "mode": "INSERT"})
	require.Equal(t, a, b, "same content, same hash")
	require.NotEqual(t, a, c, "another file, another hash")

	u := upload("abc")
	nested := hash(map[string]any{"input": []any{map[string]any{"file": &u}}})
	require.Contains(t, nested.(map[string]any)["input"].([]any)[0].(map[string]any)["file"], "upload:")
	rest := make([]byte, 3)
	n, _ := u.File.Read(rest)
	require.Equal(t, "abc", string(rest[:n]), "rewound for the resolver")
}
