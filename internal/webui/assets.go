package webui

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
)

// assetFiles holds the vendored GraphiQL files and the GraphiQL page's own script and
// stylesheet. The README next to the vendored files is left out so that it is not served.
//
//go:embed assets/graphiql/*.js assets/graphiql/*.css assets/page/*.js assets/page/*.css
var assetFiles embed.FS

// ownAsset describes the embedded file assets/<name> of this package's own: its version
// is a prefix of its sha256, so an edit gives it a new URL.
func ownAsset(name string) asset {
	b, err := assetFiles.ReadFile("assets/" + name)
	if err != nil {
		panic(fmt.Sprintf("webui: error reading embedded asset %s: %v", name, err)) // the names are fixed
	}
	sum := sha256.Sum256(b)
	return asset{
		name:    name,
		version: hex.EncodeToString(sum[:8]),
		sri:     "sha256-" + base64.StdEncoding.EncodeToString(sum[:]),
	}
}

// Assets returns the handler of the embedded static files the GraphiQL page loads, such
// as /assets/graphiql/graphiql.min.js and /assets/page/graphiql.js. Mount it at
// "GET /assets/".
//
// Responses carry an explicit Content-Type, an ETag (the file's sha256) and a one-year
// immutable Cache-Control: the page requests the files with their version (the package
// version, or a hash of the file) in the query string, so a new version has a new URL.
// Directory paths answer 404.
func Assets() http.Handler {
	root, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		panic(fmt.Sprintf("webui: error opening embedded assets: %v", err)) // the embed pattern is fixed, so this cannot happen
	}
	etags := make(map[string]string)
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags[name] = `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("webui: error hashing embedded assets: %v", err))
	}

	files := http.StripPrefix("/assets/", http.FileServerFS(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !onlyGetOrHead(w, r) {
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/assets/")
		etag, known := etags[name]
		if !ok || !known {
			// Unknown files and directories (no listings).
			http.NotFound(w, r)
			return
		}
		setContentType(w.Header(), name)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("ETag", etag) // http.FileServer answers If-None-Match from it
		files.ServeHTTP(w, r)
	})
}
