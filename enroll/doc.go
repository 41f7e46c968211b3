// Package enroll is the one place an enrollment is decided. Every protocol
// edge (SCEP, EST, later the admin API) hands a Request to Service.Enroll,
// which runs the same sequence:
//
//  1. find the profile;
//  2. authorise: a renewal by a certificate certgate issued and still
//     trusts, or else the profile's validator (challenge);
//  3. prepare the certificate under the profile's policy (serial, validity,
//     extensions), which may refuse the CSR;
//  4. reserve the serial in the store (durable) — record before sign;
//  5. sign;
//  6. record the issued certificate (durable) before anything is returned.
//
// Every refusal is a *Failure with a Reason, which the edges map to their
// wire format. Outcomes are counted in Prometheus and logged with the
// request's zerolog logger (taken from the context).
package enroll
