package entra

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// checkAssertion verifies a client assertion the way the Microsoft
// identity platform documents it ("certificate credentials"): a JWT with
// typ JWT, alg PS256 (or the older RS256), the certificate named by
// x5t#S256 (or the older SHA-1 x5t), aud the token endpoint, iss and sub
// the client ID, a jti, and nbf/exp around now.
func checkAssertion(jwt, clientID, tokenURL string, cert *x509.Certificate, now time.Time) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWS")
	}
	var hdr struct {
		Alg     string `json:"alg"`
		Typ     string `json:"typ"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return errors.New("bad header")
	}
	if !strings.EqualFold(hdr.Typ, "JWT") {
		return errors.New("typ is not JWT")
	}
	s256 := sha256.Sum256(cert.Raw)
	s1 := sha1.Sum(cert.Raw)
	switch {
	case hdr.X5tS256 != "":
		if hdr.X5tS256 != base64.RawURLEncoding.EncodeToString(s256[:]) {
			return errors.New("x5t#S256 does not match the registered certificate")
		}
	case hdr.X5t != "":
		if hdr.X5t != base64.RawURLEncoding.EncodeToString(s1[:]) {
			return errors.New("x5t does not match the registered certificate")
		}
	default:
		return errors.New("no x5t#S256 or x5t")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("registered certificate has no RSA key")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("bad signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch hdr.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		return errors.New("alg is not PS256 or RS256")
	}
	if err != nil {
		return errors.New("signature does not verify")
	}
	var claims struct {
		Aud string  `json:"aud"`
		Iss string  `json:"iss"`
		Sub string  `json:"sub"`
		Jti string  `json:"jti"`
		Nbf float64 `json:"nbf"`
		Exp float64 `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return errors.New("bad claims")
	}
	switch {
	case claims.Aud != tokenURL:
		return errors.New("aud is not the token endpoint")
	case claims.Iss != clientID || claims.Sub != clientID:
		return errors.New("iss and sub must be the client ID")
	case claims.Jti == "":
		return errors.New("no jti")
	case claims.Exp == 0 || !now.Before(time.Unix(int64(claims.Exp), 0)):
		return errors.New("assertion expired")
	case claims.Nbf != 0 && now.Add(5*time.Minute).Before(time.Unix(int64(claims.Nbf), 0)):
		return errors.New("assertion not yet valid")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	return d.Decode(v)
}
