package adminapi

import _ "embed"

// OpenAPI is the API's OpenAPI 3 document, served at
// /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
