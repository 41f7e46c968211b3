package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certgate/certgate/store"
)

// Digest counts the items of one kind and hashes them: SHA-256 over the
// canonical JSON of each item, one per line, in a fixed order (records by
// status, then serial; requests and tokens by ID; challenges by profile and
// hash; static secrets by profile and hash; device states by source and key). Canonical means normalized as
// Copy compares (see the package doc), so two stores that hold the same
// items, whatever their backends, have equal digests, and any field that
// differs changes it.
type Digest struct {
	// Name is "records" (every status), "records reserved", "records
	// valid", "records revoked", or one of the kinds other than records
	// and sequences.
	Name   string `json:"name"`
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
}

// Summary is what Compare compares.
type Summary struct {
	// Digests in a fixed order of names.
	Digests []Digest `json:"digests"`
	// Sequences holds the last number of each sequence.
	Sequences map[string]uint64 `json:"sequences"`
}

// Summarize reads all of s (pages of batchSize records; zero or negative
// means DefaultBatchSize) into a Summary.
func Summarize(ctx context.Context, s Source, batchSize int) (*Summary, error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	sum := &Summary{}
	all := newDigester("records")
	for _, status := range []store.Status{store.StatusReserved, store.StatusValid, store.StatusRevoked} {
		d := newDigester("records " + string(status))
		after := ""
		for {
			page, err := s.Search(ctx, store.Query{Status: status, After: after, Limit: batchSize})
			if err != nil {
				return nil, fmt.Errorf("migrate: summarize %s records: %w", status, err)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				line := canonical(normRecord(r))
				d.add(line)
				all.add(line)
			}
			after = page[len(page)-1].SerialHex
		}
		sum.Digests = append(sum.Digests, d.digest())
	}
	sum.Digests = append([]Digest{all.digest()}, sum.Digests...)

	steps := []struct {
		kind string
		fn   func(context.Context, Source, *digester) error
	}{
		{KindRequests, func(ctx context.Context, s Source, d *digester) error { return digestRequests(ctx, s, d, batchSize) }},
		{KindTokens, digestTokens},
		{KindChallenges, digestChallenges},
		{KindStaticSecrets, digestStaticSecrets},
		{KindDeviceStates, digestDeviceStates},
	}
	for _, step := range steps {
		d := newDigester(step.kind)
		if err := step.fn(ctx, s, d); err != nil {
			return nil, fmt.Errorf("migrate: summarize %s: %w", step.kind, err)
		}
		sum.Digests = append(sum.Digests, d.digest())
	}
	seqs, err := s.Sequences(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: summarize sequences: %w", err)
	}
	sum.Sequences = seqs
	return sum, nil
}

func digestRequests(ctx context.Context, s Source, d *digester, batchSize int) error {
	after := ""
	for {
		page, err := s.SearchRequests(ctx, store.RequestQuery{After: after, Limit: batchSize})
		if err != nil || len(page) == 0 {
			return err
		}
		for _, r := range page {
			n := *r
			for _, t := range []*string{&n.Protocol, &n.TransactionID, &n.Subject, &n.DeviceID, &n.RequesterAddr, &n.DecidedBy, &n.Reason, &n.Serial} {
				*t = normText(*t)
			}
			n.CSR = normBytes(n.CSR)
			n.CreatedAt, n.DecidedAt = utcTime(n.CreatedAt), utcTime(n.DecidedAt)
			d.add(canonical(&n))
		}
		after = page[len(page)-1].ID
	}
}

func digestTokens(ctx context.Context, s Source, d *digester) error {
	list, err := s.ListTokens(ctx)
	for _, t := range list {
		n := *t
		n.Name, n.Role, n.CreatedAt = normText(n.Name), normText(n.Role), utcTime(n.CreatedAt)
		d.add(canonical(&n))
	}
	return err
}

func digestChallenges(ctx context.Context, s Source, d *digester) error {
	list, err := s.Challenges(ctx)
	for _, c := range list {
		n := *c
		n.Subject, n.DeviceID = normText(n.Subject), normText(n.DeviceID)
		n.CreatedAt, n.ExpiresAt = utcTime(n.CreatedAt), utcTime(n.ExpiresAt)
		d.add(canonical(&n))
	}
	return err
}

func digestDeviceStates(ctx context.Context, s Source, d *digester) error {
	list, err := s.DeviceStates(ctx)
	for _, ds := range list {
		n := *ds
		n.State, n.Detail = normText(n.State), normText(n.Detail)
		n.ConfirmedAt, n.CheckedAt, n.EnrolledAt = utcTime(n.ConfirmedAt), utcTime(n.CheckedAt), utcTime(n.EnrolledAt)
		if len(n.Held) == 0 {
			n.Held = nil
		}
		d.add(canonical(&n))
	}
	return err
}

func digestStaticSecrets(ctx context.Context, s Source, d *digester) error {
	profiles, err := s.StaticSecretProfiles(ctx)
	if err != nil {
		return err
	}
	for _, p := range profiles {
		list, err := s.StaticSecrets(ctx, p)
		if err != nil {
			return err
		}
		// Backends keep different orders within a profile.
		slices.SortFunc(list, func(a, b store.StaticSecret) int { return strings.Compare(a.Hash, b.Hash) })
		for _, sec := range list {
			d.add(canonical(struct {
				Profile string `json:"profile"`
				store.StaticSecret
			}{p, store.StaticSecret{Hash: sec.Hash, CreatedAt: utcTime(sec.CreatedAt), ExpiresAt: utcTime(sec.ExpiresAt)}}))
		}
	}
	return nil
}

// normRecord is a copy of r as canonical JSON shows it.
func normRecord(r *store.CertRecord) *store.CertRecord {
	n := *r
	for _, t := range []*string{&n.Issuer, &n.Subject, &n.CommonName, &n.Profile, &n.Protocol, &n.TransactionID,
		&n.RequesterAddr, &n.DeviceID, &n.RenewalOf} {
		*t = normText(*t)
	}
	for _, l := range []*[]string{&n.DNSNames, &n.EmailAddrs, &n.URIs, &n.UPNs} {
		*l = normList(*l)
	}
	for _, t := range []*time.Time{&n.NotBefore, &n.NotAfter, &n.CreatedAt, &n.IssuedAt, &n.RevokedAt} {
		*t = utcTime(*t)
	}
	n.DER, n.EscrowedKey = normBytes(n.DER), normBytes(n.EscrowedKey)
	n.SerialHex = store.SerialHex(n.Serial)
	return &n
}

func normList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = normText(s)
	}
	return out
}

func normBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// utcTime is normTime in UTC, so that the JSON is the same whatever zone
// a backend returns.
func utcTime(t time.Time) time.Time {
	return normTime(t).UTC()
}

// canonical is v's JSON; struct fields encode in declaration order, so it
// is deterministic.
func canonical(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only channels, functions and the like fail to encode, and
		// no item has them.
		return []byte(err.Error())
	}
	return b
}

// digester builds one Digest.
type digester struct {
	name  string
	count int
	h     hash.Hash
}

func newDigester(name string) *digester {
	return &digester{name: name, h: sha256.New()}
}

func (d *digester) add(line []byte) {
	d.count++
	d.h.Write(line)
	d.h.Write([]byte{'\n'})
}

func (d *digester) digest() Digest {
	return Digest{Name: d.name, Count: d.count, SHA256: hex.EncodeToString(d.h.Sum(nil))}
}

// Mismatch is one line on which two summaries disagree.
type Mismatch struct {
	Name           string
	Source, Target string
}

// Compare lists where dst does not hold what src does: a digest whose
// count or hash differs, or a sequence below the source's number (one at
// or above it is fine: no number is handed out twice). Empty means the
// copy is complete.
func Compare(src, dst *Summary) []Mismatch {
	var out []Mismatch
	byName := map[string]Digest{}
	for _, d := range dst.Digests {
		byName[d.Name] = d
	}
	for _, s := range src.Digests {
		d, ok := byName[s.Name]
		switch {
		case !ok:
			out = append(out, Mismatch{Name: s.Name, Source: s.String(), Target: "missing"})
		case d != s:
			out = append(out, Mismatch{Name: s.Name, Source: s.String(), Target: d.String()})
		}
	}
	for _, name := range sortedKeys(src.Sequences) {
		if got := dst.Sequences[name]; got < src.Sequences[name] {
			out = append(out, Mismatch{Name: "sequence " + name,
				Source: strconv.FormatUint(src.Sequences[name], 10), Target: strconv.FormatUint(got, 10)})
		}
	}
	return out
}

// String is "COUNT sha256:HEX".
func (d Digest) String() string {
	return strconv.Itoa(d.Count) + " sha256:" + d.SHA256
}
