package intune

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// assertionLifetime is how long a client assertion is valid; Microsoft
// asks for "5-10 minutes" after nbf.
const assertionLifetime = 10 * time.Minute

// clientAssertion builds the JWT that authenticates the app with its
// certificate (Microsoft identity platform "certificate credentials";
// OpenID Connect private_key_jwt): PS256, the certificate named by its
// SHA-256 thumbprint (x5t#S256) and, for older Entra deployments that
// only know it, the SHA-1 one (x5t).
func clientAssertion(cfg Config, tokenURL string) (string, error) {
	s256 := sha256.Sum256(cfg.ClientCertificate.Raw)
	s1 := sha1.Sum(cfg.ClientCertificate.Raw)
	hdr, err := json.Marshal(map[string]string{
		"alg":      "PS256",
		"typ":      "JWT",
		"x5t#S256": base64.RawURLEncoding.EncodeToString(s256[:]),
		"x5t":      base64.RawURLEncoding.EncodeToString(s1[:]),
	})
	if err != nil {
		return "", fmt.Errorf("intune: client assertion: %w", err)
	}
	now := cfg.Now()
	claims, err := json.Marshal(map[string]any{
		"aud": tokenURL,
		"iss": cfg.ClientID,
		"sub": cfg.ClientID,
		"jti": newRequestID(),
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("intune: client assertion: %w", err)
	}
	signing := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := cfg.ClientKey.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	if err != nil {
		return "", fmt.Errorf("intune: client assertion: signing: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
