package sender

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendBody(t *testing.T) {
	t.Parallel()
	body, ok := appendBody(nil, Request{ID: -3, Phone: "79001234567", Text: `a"b`})
	require.True(t, ok)
	require.Equal(t, `{"id":-3,"phone":79001234567,"text":"a\"b"}`, string(body))

	_, ok = appendBody(nil, Request{Phone: "7900123456a"})
	require.False(t, ok)
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"b\s`, `"q\"b\\s"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"Привет 👋", `"Привет 👋"`},
		{"<&>", `"<&>"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"a\xffb\xc3", `"a\ufffdb\ufffd"`},
	} {
		got := appendJSONString(nil, tt.in)
		require.Equal(t, tt.want, string(got), "%q", tt.in)
	}
}

// FuzzAppendJSONString checks the hand-written escaper against encoding/json:
// the output is valid JSON and decodes to what encoding/json's encoding of
// the same string decodes to.
func FuzzAppendJSONString(f *testing.F) {
	for _, seed := range []string{"", "hello", "\"\\/", "\x00\x1f\n", "Привет 👋", "\u2028", "\xff\xfe\xc3", strings.Repeat("é", 10)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString([]byte("x"), s)[1:]
		require.True(t, json.Valid(got), "%q -> %s", s, got)

		ref, err := json.Marshal(s)
		require.NoError(t, err)
		var want, have string
		require.NoError(t, json.Unmarshal(ref, &want))
		require.NoError(t, json.Unmarshal(got, &have))
		require.Equal(t, want, have)
	})
}
