// Package static embeds the built CSS, the vendored htmx and our small
// script, so the binary serves them with no files beside it.
package static

import "embed"

// FS holds css/, js/ and img/.
//
//go:embed css js img
var FS embed.FS
