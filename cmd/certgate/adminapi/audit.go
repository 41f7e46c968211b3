package adminapi

import (
	"net/http"

	"github.com/rs/zerolog"
)

// logAudit records who changed what; every state change through the API
// goes through here.
func logAudit(r *http.Request, action, object string) {
	p := principalFrom(r.Context())
	zerolog.Ctx(r.Context()).Info().Str("principal", p.Name).Str("role", p.Role.String()).
		Str("action", action).Str("object", object).Msg("api: audit")
}
