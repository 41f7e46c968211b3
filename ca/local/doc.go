// Package local is certgate's own issuing CA: an RSA intermediate, kept in
// a directory of PEM files, that signs certificates under a ca.Profile.
//
// The intermediate is also the SCEP CA. SCEP clients encrypt their request
// to the certificate GetCACert returns and verify the CertRep signed with
// the same key, which is why the key must be RSA (RFC 8894 §3.1: CMS
// EnvelopedData with key transport) and why Init gives the intermediate
// digitalSignature and keyEncipherment besides keyCertSign: certmonger,
// sscep and iOS look for those bits before they use the certificate.
//
// Directory layout (dir mode 0700 when Init creates it):
//
//	root.crt  the issuers of ca.crt, leaf-first (Init: the self-signed root)
//	root.key  the root's key (Init only); Load never reads it, so it can be
//	          moved offline once the intermediate exists
//	ca.crt    the issuing CA certificate
//	ca.key    its key, unencrypted PKCS#8, mode 0600
//
// Every file is written to a temporary name, fsync'd and renamed, and ca.crt
// is written last: a crash while creating a CA leaves no ca.crt, and Exists
// says so. A crash while replacing one (Init with Force, Import) can leave
// the new ca.key beside the old ca.crt; Load refuses a key that does not
// match its certificate, so that state is loud, never a wrong signature.
package local
