// Package entra is a fake of the Microsoft Entra ID v2.0 token endpoint
// (INTEGRATIONS.md §1 and §8.1), for the client-credentials grant that
// certgate's Intune validator uses.
//
// POST /{tenant}/oauth2/v2.0/token accepts a client secret or a client
// assertion (a JWT signed with the application's certificate, PS256 or
// RS256, naming the certificate by x5t#S256 or x5t). Each token is an
// opaque random string bound to one audience, derived from the scope:
// https://graph.microsoft.com/.default gives AudienceGraph, and both
// https://api.manage.microsoft.com//.default (the reference library's
// double slash) and https://api.manage.microsoft.com/.default give
// AudienceIntune. The Graph and Intune fakes ask Audience which audience a
// bearer token has, so a Graph token used on Intune is refused.
//
// Errors follow the AAD JSON shape (error, error_description starting
// "AADSTSnnnnn:", error_codes, timestamp, trace_id, correlation_id).
package entra
