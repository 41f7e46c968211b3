package ca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
)

// subject builds the certificate subject from the CSR's, keeping only the
// attributes in SubjectFields, in the CSR's order. The kept attributes go
// into ExtraNames as well as the named fields: pkix.Name marshals
// ExtraNames in order and skips a named field whose OID ExtraNames holds,
// so the order survives while CommonName and friends stay readable.
// Multi-valued RDNs are flattened to one attribute per RDN.
func (p *Profile) subject(csr *x509.CertificateRequest) (pkix.Name, error) {
	allowed := make(map[string]bool, len(p.SubjectFields))
	for _, f := range p.SubjectFields {
		if oid, ok := fieldOID(f); ok {
			allowed[oid.String()] = true
		}
	}
	var kept []pkix.AttributeTypeAndValue
	for _, atv := range csr.Subject.Names {
		if !allowed[atv.Type.String()] {
			continue
		}
		if _, ok := atv.Value.(string); !ok {
			return pkix.Name{}, &PolicyError{Code: PolicyBadRequest, Detail: fmt.Sprintf("subject attribute %s is not a string", atv.Type)}
		}
		kept = append(kept, atv)
	}
	seq := make(pkix.RDNSequence, 0, len(kept))
	for _, atv := range kept {
		seq = append(seq, pkix.RelativeDistinguishedNameSET{atv})
	}
	var name pkix.Name
	name.FillFromRDNSequence(&seq)
	name.ExtraNames = kept
	return name, nil
}
