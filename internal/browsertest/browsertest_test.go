package browsertest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFileName(t *testing.T) {
	t.Parallel()

	for in, want := range map[string]string{
		"TestDocs/Try_it":        "TestDocs_Try_it",
		"general statistics":     "general_statistics",
		"../../etc/passwd":       "etc_passwd",
		"TestX/Sub#01--final.v2": "TestX_Sub_01--final.v2",
	} {
		require.Equal(t, want, fileName(in), in)
	}
}

func TestArtifactsDir(t *testing.T) {
	t.Run("Default", func(t *testing.T) {
		t.Setenv("TEST_ARTIFACTS_DIR", "")
		dir, err := artifactsDir()
		require.NoError(t, err)
		// go test runs in the package directory, two levels under the module root.
		wd, err := os.Getwd()
		require.NoError(t, err)
		require.Equal(t, filepath.Join(wd, "..", "..", "testdata", "artifacts"), dir)
	})

	t.Run("Env", func(t *testing.T) {
		want := t.TempDir()
		t.Setenv("TEST_ARTIFACTS_DIR", want)
		dir, err := artifactsDir()
		require.NoError(t, err)
		require.Equal(t, want, dir)
	})
}

func TestJSString(t *testing.T) {
	t.Parallel()

	require.Equal(t, `"a\"b\\c\n"`, jsString("a\"b\\c\n"))
}
