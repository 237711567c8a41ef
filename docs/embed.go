// Package docs embeds the OpenAPI document so the API serves exactly the
// file that is reviewed and tested.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml as written.
//
//go:embed openapi.yaml
var OpenAPI []byte
