// Package fakehttp is the common core of certgate's fakes of cloud
// services (Entra ID, Microsoft Graph, Intune): a TLS test server on
// loopback that records every request and injects faults per route.
//
// A fake registers its routes with Server.Handle under a route name; the
// server then records each request (method, path, query, headers, body,
// and the body parsed as a form or JSON when it is one) before anything
// else, and applies the route's queued faults before the fake's own
// handler sees the request. Faults are explicit test knobs, never magic
// values in the request, so production code cannot trip them.
//
// Nothing here is build-tagged: any test in the module may import it.
package fakehttp
