// Package web is the operator's web UI: its TypeScript sources (src/), built by
// `make ui` into dist/, which is committed and embedded here so that the binary serves
// the UI with no Node on the machine (internal/webui.App, under /ui/).
package web

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Dist returns the built UI: index.html, favicon.svg and assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern is fixed
	}
	return sub
}
