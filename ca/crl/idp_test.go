package crl

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"path/filepath"
	"testing"
)

var oidCRLDistributionPoints = asn1.ObjectIdentifier{2, 5, 29, 31}

// sequenceElems splits a DER SEQUENCE into its elements.
func sequenceElems(der []byte) ([]asn1.RawValue, error) {
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 || seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence {
		return nil, fmt.Errorf("not one SEQUENCE")
	}
	var elems []asn1.RawValue
	for b := seq.Bytes; len(b) > 0; {
		var e asn1.RawValue
		if b, err = asn1.Unmarshal(b, &e); err != nil {
			return nil, err
		}
		elems = append(elems, e)
	}
	return elems, nil
}

// leafDistributionPointName returns the DER of the DistributionPointName
// of the certificate's only CRL distribution point (RFC 5280 §4.2.1.13).
func leafDistributionPointName(t *testing.T, cert *x509.Certificate) []byte {
	t.Helper()
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidCRLDistributionPoints) {
			continue
		}
		points, err := sequenceElems(ext.Value)
		if err != nil || len(points) != 1 {
			t.Fatalf("CRL distribution points: %d points, %v; want 1", len(points), err)
		}
		fields, err := sequenceElems(points[0].FullBytes)
		if err != nil || len(fields) == 0 || fields[0].Class != asn1.ClassContextSpecific || fields[0].Tag != 0 {
			t.Fatalf("distribution point has no distributionPoint field: %v", err)
		}
		return fields[0].Bytes
	}
	t.Fatalf("leaf has no CRL distribution points extension")
	return nil
}

// crlIDP returns the CRL's Issuing Distribution Point fields (RFC 5280
// §5.2.5) and whether the extension is critical.
func crlIDP(t *testing.T, rl *x509.RevocationList) (fields []asn1.RawValue, critical bool) {
	t.Helper()
	var found int
	for _, ext := range rl.Extensions {
		if !ext.Id.Equal(oidIssuingDistributionPoint) {
			continue
		}
		found++
		var err error
		if fields, err = sequenceElems(ext.Value); err != nil {
			t.Fatalf("issuing distribution point: %v", err)
		}
		critical = ext.Critical
	}
	if found != 1 {
		t.Fatalf("CRL has %d issuing distribution point extensions, want 1", found)
	}
	return fields, critical
}

// TestIDPMatchesLeafCDP is the Windows schannel quirk: the CRL's IDP must
// name the leaf's CDP with the same bytes, not just the same meaning.
func TestIDPMatchesLeafCDP(t *testing.T) {
	c := loadCA(t)
	leaf := issueLeaf(t, c, "idp-leaf")
	if len(leaf.CRLDistributionPoints) != 1 || leaf.CRLDistributionPoints[0] != wantCDP {
		t.Fatalf("leaf CDP = %q, want [%s]", leaf.CRLDistributionPoints, wantCDP)
	}
	st := openBolt(t, filepath.Join(t.TempDir(), "certgate.db"))
	b, err := NewBuilder(options(c, st, newClock()))
	if err != nil {
		t.Fatalf("NewBuilder: %v", err)
	}
	blob, err := b.Build(context.Background())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	rl := parse(t, blob.Data, c.Certificate())

	fields, critical := crlIDP(t, rl)
	if !critical {
		t.Errorf("issuing distribution point is not critical; RFC 5280 §5.2.5 says it is")
	}
	// Only distributionPoint: no onlyContainsUserCerts, onlySomeReasons,
	// indirectCRL or onlyContainsAttributeCerts, as this is a complete CRL.
	if len(fields) != 1 || fields[0].Class != asn1.ClassContextSpecific || fields[0].Tag != 0 || !fields[0].IsCompound {
		t.Fatalf("issuing distribution point fields = %+v, want only distributionPoint [0]", fields)
	}
	got, want := fields[0].Bytes, leafDistributionPointName(t, leaf)
	if !bytes.Equal(got, want) {
		t.Fatalf("IDP distributionPoint = %x\nleaf CDP distributionPoint = %x", got, want)
	}
	// And the URI inside really is the one (fullName [0] { URI [6] }).
	var fullName, uri asn1.RawValue
	if _, err := asn1.Unmarshal(got, &fullName); err != nil || fullName.Tag != 0 {
		t.Fatalf("fullName: %v, tag %d", err, fullName.Tag)
	}
	if _, err := asn1.Unmarshal(fullName.Bytes, &uri); err != nil || uri.Tag != 6 || uri.Class != asn1.ClassContextSpecific {
		t.Fatalf("uniformResourceIdentifier: %v, tag %d", err, uri.Tag)
	}
	if string(uri.Bytes) != wantCDP {
		t.Fatalf("IDP URI = %q, want %q", uri.Bytes, wantCDP)
	}
}

func TestDistributionPoint(t *testing.T) {
	for _, tc := range []struct {
		name, publicURL, want, wantErr string
	}{
		{name: "ok/no public URL means no IDP", publicURL: "", want: ""},
		{name: "ok/trailing slashes trimmed like ca/local", publicURL: "https://pki.example.com:8443//", want: "https://pki.example.com:8443/crl/a.crl"},
		{name: "ok/path prefix kept", publicURL: "https://pki.example.com/certgate", want: "https://pki.example.com/certgate/crl/a.crl"},
		{name: "fail/scheme", publicURL: "ftp://pki.example.com", wantErr: `crl: public URL "ftp://pki.example.com" is not an http(s) base URL like http://host:8080`},
		{name: "fail/no host", publicURL: "http://", wantErr: `crl: public URL "http://" is not an http(s) base URL like http://host:8080`},
		{name: "fail/query", publicURL: "http://h/?x=1", wantErr: `crl: public URL "http://h/?x=1" is not an http(s) base URL like http://host:8080`},
		{name: "fail/not ASCII", publicURL: "http://h/pk\u00ed", wantErr: `crl: distribution point "http://h/pkí/crl/a.crl" is not ASCII`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := distributionPoint(tc.publicURL, "a")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("distributionPoint = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
