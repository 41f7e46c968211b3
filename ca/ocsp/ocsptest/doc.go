// Package ocsptest has in-memory fakes of what the OCSP responder reads:
// Cache (a store.Cache) and Certs (an ocsp.CertSource), each with failure
// knobs and call counters, for tests here and in the packages that wire
// the responder.
package ocsptest
