package upstream

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"

	xpkcs12 "golang.org/x/crypto/pkcs12"

	"github.com/certgate/certgate/ca/cms"
)

// RFC 7292 identifiers.
var (
	oidEncryptedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509CertificateType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidSHA1                = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

type pfx struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  macData `asn1:"optional"`
}

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type p12EncryptedData struct {
	Version              int
	EncryptedContentInfo p12EncryptedContentInfo
}

type p12EncryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue   `asn1:"tag:0,explicit"`
	Attributes []asn1.RawValue `asn1:"set,optional"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

// errUnsupportedPBE is a PKCS#12 MAC digest we do not implement; such
// files, like those whose contents are encrypted with a scheme other than
// PBES2 (cms.ErrNotPBES2), go to x/crypto.
var errUnsupportedPBE = errors.New("unsupported password-based encryption")

// decodePKCS12 returns the key and certificates of a PKCS#12 file. We
// read what OpenSSL 3 writes by default (PBES2 with AES, HMAC-SHA-256
// MAC); files in the legacy schemes (RC2 or 3DES PBE, SHA-1 MAC: Windows
// exports, `openssl pkcs12 -legacy`) are handed to x/crypto/pkcs12, which
// reads only those.
func decodePKCS12(data, password []byte) (crypto.PrivateKey, []*x509.Certificate, error) {
	key, certs, err := decodeModernPKCS12(data, password)
	if errors.Is(err, errUnsupportedPBE) || errors.Is(err, cms.ErrNotPBES2) {
		return decodeLegacyPKCS12(data, password)
	}
	return key, certs, err
}

func decodeModernPKCS12(data, password []byte) (crypto.PrivateKey, []*x509.Certificate, error) {
	var p pfx
	if err := cms.UnmarshalAll(data, &p); err != nil {
		return nil, nil, fmt.Errorf("not a PKCS#12 file: %w", err)
	}
	if p.Version != 3 || !p.AuthSafe.ContentType.Equal(cms.OIDData) {
		return nil, nil, errors.New("not a password-integrity PKCS#12 file")
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(p.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, nil, fmt.Errorf("PKCS#12 authSafe: %w", err)
	}
	if len(p.MacData.Mac.Algorithm.Algorithm) == 0 {
		return nil, nil, errors.New("PKCS#12 file has no MAC: its integrity cannot be checked")
	}
	if err := verifyP12MAC(&p.MacData, authSafe, password); err != nil {
		return nil, nil, err
	}
	var contents []p12ContentInfo
	if err := cms.UnmarshalAll(authSafe, &contents); err != nil {
		return nil, nil, fmt.Errorf("PKCS#12 authSafe: %w", err)
	}
	var (
		key   crypto.PrivateKey
		certs []*x509.Certificate
	)
	for _, ci := range contents {
		bags, err := safeContents(ci, password)
		if err != nil {
			return nil, nil, err
		}
		for _, bag := range bags {
			switch {
			case bag.ID.Equal(oidCertBag):
				var cb certBag
				if err := cms.UnmarshalAll(bag.Value.Bytes, &cb); err != nil || !cb.ID.Equal(oidX509CertificateType) {
					continue // an SDSI certificate or a CRL: not ours
				}
				cert, err := x509.ParseCertificate(cb.Data)
				if err != nil {
					return nil, nil, fmt.Errorf("PKCS#12 certificate: %w", err)
				}
				certs = append(certs, cert)
			case bag.ID.Equal(oidKeyBag), bag.ID.Equal(oidShroudedKeyBag):
				if key != nil {
					return nil, nil, errors.New("PKCS#12 file holds more than one private key")
				}
				der := bag.Value.Bytes
				if bag.ID.Equal(oidShroudedKeyBag) {
					if der, err = cms.DecryptPKCS8(der, password); err != nil {
						return nil, nil, fmt.Errorf("PKCS#12 key: %w", err)
					}
				}
				if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
					return nil, nil, fmt.Errorf("PKCS#12 key: %w", err)
				}
			}
		}
	}
	return key, certs, nil
}

func safeContents(ci p12ContentInfo, password []byte) ([]safeBag, error) {
	var der []byte
	switch {
	case ci.ContentType.Equal(cms.OIDData):
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &der); err != nil {
			return nil, fmt.Errorf("PKCS#12 contents: %w", err)
		}
	case ci.ContentType.Equal(oidEncryptedData):
		var ed p12EncryptedData
		if err := cms.UnmarshalAll(ci.Content.Bytes, &ed); err != nil {
			return nil, fmt.Errorf("PKCS#12 encrypted contents: %w", err)
		}
		var err error
		eci := ed.EncryptedContentInfo
		if der, err = cms.PBES2Decrypt(eci.ContentEncryptionAlgorithm, eci.EncryptedContent, password); err != nil {
			return nil, fmt.Errorf("PKCS#12 encrypted contents: %w", err)
		}
	default:
		return nil, fmt.Errorf("PKCS#12: content type %v (public-key privacy mode) not supported", ci.ContentType)
	}
	var bags []safeBag
	if err := cms.UnmarshalAll(der, &bags); err != nil {
		return nil, fmt.Errorf("PKCS#12 bags: %w", err)
	}
	return bags, nil
}

// macHashes are the MAC digests read, with their block sizes for the
// RFC 7292 Appendix B key derivation.
var macHashes = map[string]struct {
	h func() hash.Hash
	v int
}{
	oidSHA1.String():   {sha1.New, 64},
	oidSHA256.String(): {sha256.New, 64},
	oidSHA384.String(): {sha512.New384, 128},
	oidSHA512.String(): {sha512.New, 128},
}

// verifyP12MAC checks the file's HMAC (RFC 7292 §5): a wrong passphrase
// is reported here, before anything is decrypted.
func verifyP12MAC(md *macData, content, password []byte) error {
	alg, ok := macHashes[md.Mac.Algorithm.Algorithm.String()]
	if !ok {
		return fmt.Errorf("%w: MAC digest %v", errUnsupportedPBE, md.Mac.Algorithm.Algorithm)
	}
	if md.Iterations < 1 || md.Iterations > cms.MaxIterations {
		return fmt.Errorf("PKCS#12 MAC: iteration count %d out of range", md.Iterations)
	}
	candidates := [][]byte{bmpString(password)}
	if len(password) == 0 {
		// RFC 7292 leaves the empty password's encoding open: tools
		// use either two zero bytes or nothing.
		candidates = append(candidates, nil)
	}
	for _, pw := range candidates {
		size := alg.h().Size()
		key := p12KDF(alg.h, alg.v, md.MacSalt, pw, md.Iterations, 3, size)
		mac := hmac.New(alg.h, key)
		mac.Write(content)
		if hmac.Equal(mac.Sum(nil), md.Mac.Digest) {
			return nil
		}
	}
	return fmt.Errorf("PKCS#12 MAC: %w", cms.ErrPassphrase)
}

// bmpString is the password as RFC 7292 Appendix B.1 wants it: UTF-16BE
// with a terminating zero.
func bmpString(password []byte) []byte {
	u := utf16.Encode([]rune(string(password)))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

// p12KDF is the RFC 7292 Appendix B.2 key derivation; id 3 derives MAC
// keys.
func p12KDF(newHash func() hash.Hash, v int, salt, password []byte, iterations int, id byte, size int) []byte {
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	in := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < size {
		h := newHash()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for r := 1; r < iterations; r++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= size {
			break
		}
		// I_j = (I_j + B + 1) mod 2^(8v), B = a repeated to v bytes.
		b := fill(a)[:v]
		for j := 0; j < len(in); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(in[j+k]) + int(b[k]) + carry
				in[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:size]
}

// decodeLegacyPKCS12 reads the RC2/3DES, SHA-1 MAC schemes with
// x/crypto/pkcs12, which it converts to PEM blocks.
func decodeLegacyPKCS12(data, password []byte) (crypto.PrivateKey, []*x509.Certificate, error) {
	blocks, err := xpkcs12.ToPEM(data, string(password))
	if err != nil {
		if errors.Is(err, xpkcs12.ErrIncorrectPassword) {
			return nil, nil, fmt.Errorf("PKCS#12 MAC: %w", cms.ErrPassphrase)
		}
		return nil, nil, fmt.Errorf("PKCS#12 (legacy): %w", err)
	}
	var (
		key   crypto.PrivateKey
		certs []*x509.Certificate
	)
	for _, b := range blocks {
		switch b.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("PKCS#12 certificate: %w", err)
			}
			certs = append(certs, cert)
		case "PRIVATE KEY":
			if key != nil {
				return nil, nil, errors.New("PKCS#12 file holds more than one private key")
			}
			// x/crypto writes PKCS#1 or SEC1 bytes under this type.
			if key, err = parseKeyDER(b.Bytes); err != nil {
				return nil, nil, fmt.Errorf("PKCS#12 key: %w", err)
			}
		}
	}
	return key, certs, nil
}
