package migrate

import (
	"context"
	"fmt"

	"github.com/certgate/certgate/store"
)

// requests copies the requests held for approval, in ID order.
func (c *copier) requests(ctx context.Context) error {
	after := ""
	for {
		page, err := c.src.SearchRequests(ctx, store.RequestQuery{After: after, Limit: c.opts.BatchSize})
		if err != nil {
			return fmt.Errorf("migrate: read requests from the source: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, r := range page {
			if err := c.request(ctx, r); err != nil {
				return err
			}
		}
		after = page[len(page)-1].ID
	}
}

func (c *copier) request(ctx context.Context, r *store.PendingRequest) error {
	err := c.dst.ImportRequest(ctx, r)
	if err == nil {
		c.copied(1)
		return nil
	}
	id := fmt.Sprintf("%q", r.ID)
	if !isConflict(err) {
		return fmt.Errorf("migrate: write request %s: %w", id, err)
	}
	got, err := c.dst.Request(ctx, r.ID)
	switch {
	case isNotFound(err):
		return &ConflictError{Kind: "request", ID: id,
			Detail: fmt.Sprintf("the target has another request for its profile %q and key", r.Profile)}
	case err != nil:
		return fmt.Errorf("migrate: read request %s from the target: %w", id, err)
	}
	if diff := requestDiff(r, got); len(diff) > 0 {
		return &ConflictError{Kind: "request", ID: id, Fields: diff}
	}
	c.present()
	return nil
}

// tokens copies the admin API tokens.
func (c *copier) tokens(ctx context.Context) error {
	have, err := c.dst.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read tokens from the target: %w", err)
	}
	byID := make(map[string]*store.APIToken, len(have))
	for _, t := range have {
		byID[t.ID] = t
	}
	list, err := c.src.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read tokens from the source: %w", err)
	}
	for _, t := range list {
		id := fmt.Sprintf("%q", t.ID)
		if got, ok := byID[t.ID]; ok {
			if diff := tokenDiff(t, got); len(diff) > 0 {
				return &ConflictError{Kind: "token", ID: id, Fields: diff}
			}
			c.present()
			continue
		}
		err := c.dst.PutToken(ctx, t)
		if isConflict(err) {
			return &ConflictError{Kind: "token", ID: id, Detail: "the target has another token with its hash"}
		}
		if err != nil {
			return fmt.Errorf("migrate: write token %s: %w", id, err)
		}
		c.copied(1)
	}
	return nil
}

// challenges copies the one-time challenges, expired ones included.
func (c *copier) challenges(ctx context.Context) error {
	type key struct{ profile, hash string }
	have, err := c.dst.Challenges(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read challenges from the target: %w", err)
	}
	byKey := make(map[key]*store.Challenge, len(have))
	for _, ch := range have {
		byKey[key{ch.Profile, ch.Hash}] = ch
	}
	list, err := c.src.Challenges(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read challenges from the source: %w", err)
	}
	for _, ch := range list {
		id := fmt.Sprintf("of profile %q", ch.Profile)
		if got, ok := byKey[key{ch.Profile, ch.Hash}]; ok {
			if diff := challengeDiff(ch, got); len(diff) > 0 {
				return &ConflictError{Kind: "challenge", ID: id, Fields: diff}
			}
			c.present()
			continue
		}
		if err := c.dst.PutChallenge(ctx, ch); err != nil {
			return fmt.Errorf("migrate: write challenge %s: %w", id, err)
		}
		c.copied(1)
	}
	return nil
}

// staticSecrets copies each profile's managed static secrets, in the
// source's order.
func (c *copier) staticSecrets(ctx context.Context) error {
	profiles, err := c.src.StaticSecretProfiles(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read static secret profiles from the source: %w", err)
	}
	for _, profile := range profiles {
		list, err := c.src.StaticSecrets(ctx, profile)
		if err != nil {
			return fmt.Errorf("migrate: read static secrets of profile %q from the source: %w", profile, err)
		}
		have, err := c.dst.StaticSecrets(ctx, profile)
		if err != nil {
			return fmt.Errorf("migrate: read static secrets of profile %q from the target: %w", profile, err)
		}
		byHash := make(map[string]store.StaticSecret, len(have))
		for _, s := range have {
			byHash[s.Hash] = s
		}
		id := fmt.Sprintf("of profile %q", profile)
		for _, s := range list {
			if got, ok := byHash[s.Hash]; ok {
				if diff := secretDiff(s, got); len(diff) > 0 {
					return &ConflictError{Kind: "static secret", ID: id, Fields: diff}
				}
				c.present()
				continue
			}
			if err := c.dst.ImportStaticSecret(ctx, profile, s); err != nil {
				return fmt.Errorf("migrate: write static secret %s: %w", id, err)
			}
			c.copied(1)
		}
	}
	return nil
}

// deviceStates copies the last known state of every device, so the
// device-state checker neither forgets its holds nor restarts the
// staleness clock of fail_closed profiles.
func (c *copier) deviceStates(ctx context.Context) error {
	type key struct{ source, key string }
	have, err := c.dst.DeviceStates(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read device states from the target: %w", err)
	}
	byKey := make(map[key]*store.DeviceState, len(have))
	for _, d := range have {
		byKey[key{d.Source, d.Key}] = d
	}
	list, err := c.src.DeviceStates(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read device states from the source: %w", err)
	}
	for _, d := range list {
		id := fmt.Sprintf("%s/%q", d.Source, d.Key)
		if got, ok := byKey[key{d.Source, d.Key}]; ok {
			if diff := deviceStateDiff(d, got); len(diff) > 0 {
				return &ConflictError{Kind: "device state", ID: id, Fields: diff}
			}
			c.present()
			continue
		}
		if err := c.dst.PutDeviceState(ctx, d); err != nil {
			return fmt.Errorf("migrate: write device state %s: %w", id, err)
		}
		c.copied(1)
	}
	return nil
}

// sequences raises each of the target's sequences to the source's number.
func (c *copier) sequences(ctx context.Context) error {
	want, err := c.src.Sequences(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read sequences from the source: %w", err)
	}
	have, err := c.dst.Sequences(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read sequences from the target: %w", err)
	}
	for _, name := range sortedKeys(want) {
		if have[name] >= want[name] {
			c.present()
			continue
		}
		if err := c.dst.RaiseSequence(ctx, name, want[name]); err != nil {
			return fmt.Errorf("migrate: raise sequence %q: %w", name, err)
		}
		c.copied(1)
	}
	return nil
}
