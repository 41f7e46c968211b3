package ca

import (
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// profileNameRE is the rule for profile names: they become URL path
// segments (/scep/<name>, EST labels), so only lower-case ASCII that needs
// no escaping.
var profileNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Limits on durations. Ten years bounds a typo ("87600h0" for 8760h); 48h
// covers any device clock still worth trusting.
const (
	maxValidity = 10 * 365 * 24 * time.Hour
	maxBackdate = 48 * time.Hour
)

// Defaults documented on ProfileConfig.
const (
	defaultValidity = "8760h"
	defaultBackdate = "5m"
)

var (
	defaultKeyUsage      = []string{"digitalSignature", "keyEncipherment"}
	defaultExtKeyUsage   = []string{"clientAuth"}
	defaultSubjectFields = []string{"CN", "O", "OU", "C", "ST", "L"}
	defaultSANTypes      = []string{"dns", "email", "uri", "upn"}
	defaultKeyTypes      = []KeyTypeConfig{{Type: "rsa", MinBits: minRSABits}, {Type: "ecdsa"}}
)

// Build applies the defaults documented on ProfileConfig's fields,
// validates, and returns the Profile. A list that is absent (nil) takes its
// default; a list given as empty ([]) means none, except key_types, which
// must accept at least one key type. Errors name the YAML key
// (`key_types[0].min_bits: 1024 is below 2048`) and carry no package
// prefix, so the config loader can put the key path in front.
func (c ProfileConfig) Build() (*Profile, error) {
	p := &Profile{Name: c.Name, RequireCN: true, AddSIDExtension: c.AddSIDExtension, AllowRequestedSID: c.AllowRequestedSID}
	if c.Name == "" {
		return nil, errors.New("name: required")
	}
	if !profileNameRE.MatchString(c.Name) {
		return nil, fmt.Errorf("name: %q is not a valid name (want %s; it is a URL path segment)", c.Name, profileNameRE)
	}
	var err error
	if p.Validity, err = parseDuration("validity", c.Validity, defaultValidity, "8760h"); err != nil {
		return nil, err
	}
	if p.Validity <= 0 {
		return nil, fmt.Errorf("validity: %q must be positive", c.Validity)
	}
	if p.Validity > maxValidity {
		return nil, fmt.Errorf("validity: %q exceeds 10 years (%s)", c.Validity, fmtHours(maxValidity))
	}
	if p.Backdate, err = parseDuration("backdate", c.Backdate, defaultBackdate, "5m"); err != nil {
		return nil, err
	}
	if p.Backdate < 0 {
		return nil, fmt.Errorf("backdate: %q must not be negative", c.Backdate)
	}
	if p.Backdate > maxBackdate {
		return nil, fmt.Errorf("backdate: %q exceeds %s", c.Backdate, fmtHours(maxBackdate))
	}
	if p.KeyUsage, err = buildKeyUsage(orDefault(c.KeyUsage, defaultKeyUsage)); err != nil {
		return nil, err
	}
	if p.ExtKeyUsage, err = buildExtKeyUsage(orDefault(c.ExtKeyUsage, defaultExtKeyUsage)); err != nil {
		return nil, err
	}
	keyTypes := c.KeyTypes
	if keyTypes == nil {
		keyTypes = defaultKeyTypes
	}
	if p.KeyRules, err = buildKeyRules(keyTypes); err != nil {
		return nil, err
	}
	if p.SubjectFields, err = buildSubjectFields(orDefault(c.SubjectFields, defaultSubjectFields)); err != nil {
		return nil, err
	}
	if p.SANs, err = buildSANRules(orDefault(c.SANTypes, defaultSANTypes)); err != nil {
		return nil, err
	}
	if c.RequireCN != nil {
		p.RequireCN = *c.RequireCN
	}
	if p.RequireCN && !slices.Contains(p.SubjectFields, "CN") {
		return nil, errors.New("require_cn: true but CN is not in subject_fields, so no certificate could have one")
	}
	return p, nil
}

// parseDuration parses a duration setting; empty means def.
func parseDuration(key, s, def, example string) (time.Duration, error) {
	if s == "" {
		s = def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration (e.g. %s)", key, s, example)
	}
	return d, nil
}

// fmtHours prints whole-hour limits the way an operator would write them.
func fmtHours(d time.Duration) string {
	return fmt.Sprintf("%dh", int64(d/time.Hour))
}

func orDefault(list, def []string) []string {
	if list == nil {
		return def
	}
	return list
}

func buildKeyUsage(names []string) (x509.KeyUsage, error) {
	var ku x509.KeyUsage
	for i, n := range names {
		bit, ok := lookupFold(keyUsageNames, n)
		if !ok {
			return 0, fmt.Errorf("key_usage[%d]: unknown key usage %q", i, n)
		}
		if ku&bit != 0 {
			return 0, fmt.Errorf("key_usage[%d]: duplicate %q", i, n)
		}
		ku |= bit
	}
	return ku, nil
}

func buildExtKeyUsage(names []string) ([]x509.ExtKeyUsage, error) {
	ekus := make([]x509.ExtKeyUsage, 0, len(names))
	for i, n := range names {
		eku, ok := lookupFold(extKeyUsageNames, n)
		if !ok {
			return nil, fmt.Errorf("ext_key_usage[%d]: unknown extended key usage %q", i, n)
		}
		for _, e := range ekus {
			if e == eku {
				return nil, fmt.Errorf("ext_key_usage[%d]: duplicate %q", i, n)
			}
		}
		ekus = append(ekus, eku)
	}
	return ekus, nil
}

func buildKeyRules(types []KeyTypeConfig) ([]KeyRule, error) {
	if len(types) == 0 {
		return nil, errors.New("key_types: empty; at least one key type is required")
	}
	rules := make([]KeyRule, 0, len(types))
	for i, t := range types {
		r, err := buildKeyRule(t)
		if err != nil {
			return nil, fmt.Errorf("key_types[%d].%w", i, err)
		}
		for _, prev := range rules {
			if prev.Algorithm == r.Algorithm {
				return nil, fmt.Errorf("key_types[%d].type: duplicate %q", i, t.Type)
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// buildKeyRule returns errors starting with the sub-key (type, min_bits,
// curves) for buildKeyRules to prefix.
func buildKeyRule(t KeyTypeConfig) (KeyRule, error) {
	r := KeyRule{Algorithm: strings.ToLower(t.Type)}
	switch r.Algorithm {
	case "":
		return r, errors.New("type: required")
	case "rsa":
		if len(t.Curves) > 0 {
			return r, errors.New("curves: only for ecdsa")
		}
		r.MinBits = t.MinBits
		if r.MinBits == 0 {
			r.MinBits = minRSABits
		}
		if r.MinBits < minRSABits {
			return r, fmt.Errorf("min_bits: %d is below %d", t.MinBits, minRSABits)
		}
		if r.MinBits > maxRSABits {
			return r, fmt.Errorf("min_bits: %d is above %d", t.MinBits, maxRSABits)
		}
	case "ecdsa":
		if t.MinBits != 0 {
			return r, errors.New("min_bits: only for rsa")
		}
		names := t.Curves
		if names == nil {
			names = defaultCurves
		}
		if len(names) == 0 {
			return r, errors.New("curves: empty; list at least one curve or leave it out")
		}
		for i, n := range names {
			canon := strings.ToUpper(n)
			if _, ok := curves[canon]; !ok {
				return r, fmt.Errorf("curves[%d]: unknown curve %q (want P-256, P-384, P-521)", i, n)
			}
			if slices.Contains(r.Curves, canon) {
				return r, fmt.Errorf("curves[%d]: duplicate %q", i, n)
			}
			r.Curves = append(r.Curves, canon)
		}
	case "ed25519":
		if t.MinBits != 0 {
			return r, errors.New("min_bits: only for rsa")
		}
		if len(t.Curves) > 0 {
			return r, errors.New("curves: only for ecdsa")
		}
	default:
		return r, fmt.Errorf("type: unknown key type %q (want rsa, ecdsa, ed25519)", t.Type)
	}
	return r, nil
}

func buildSubjectFields(names []string) ([]string, error) {
	fields := make([]string, 0, len(names))
	for i, n := range names {
		if _, ok := fieldOID(n); !ok {
			return nil, fmt.Errorf("subject_fields[%d]: unknown subject field %q (want %s)", i, n, subjectFieldList)
		}
		canon := strings.ToUpper(n)
		if slices.Contains(fields, canon) {
			return nil, fmt.Errorf("subject_fields[%d]: duplicate %q", i, n)
		}
		fields = append(fields, canon)
	}
	return fields, nil
}

func buildSANRules(names []string) (SANRules, error) {
	var r SANRules
	for i, n := range names {
		var flag *bool
		switch strings.ToLower(n) {
		case "dns":
			flag = &r.DNS
		case "email":
			flag = &r.Email
		case "uri":
			flag = &r.URI
		case "upn":
			flag = &r.UPN
		default:
			return r, fmt.Errorf("san_types[%d]: unknown SAN type %q (want dns, email, uri, upn)", i, n)
		}
		if *flag {
			return r, fmt.Errorf("san_types[%d]: duplicate %q", i, n)
		}
		*flag = true
	}
	return r, nil
}

// lookupFold looks name up ignoring case: YAML written by hand mixes
// "DigitalSignature" and "digitalSignature", and both mean one thing.
func lookupFold[V any](m map[string]V, name string) (V, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var zero V
	return zero, false
}
