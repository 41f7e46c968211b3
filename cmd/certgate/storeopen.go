package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
	"github.com/certgate/certgate/store/postgres"
)

// recordStore is everything certgate keeps about certificates, requests
// and credentials: what bbolt and PostgreSQL both provide.
type recordStore interface {
	store.Store
	store.Requests
	store.Challenges
	store.Tokens
	store.Secrets
	store.Sequencer
	store.Holds
	store.DeviceStates
}

// blobCache is where pre-signed OCSP responses and CRLs are kept: the
// bbolt store itself, or a replica's local bbolt file in front of
// PostgreSQL. It is always a *bolt.Store.
type blobCache interface {
	store.Cache
	Close() error
}

// stores is what build opens: the records, and the local cache (the same
// *bolt.Store for type bbolt).
type stores struct {
	records recordStore
	cache   blobCache
	// shared is set for PostgreSQL: other replicas change the records.
	shared *postgres.Store
}

// Close closes both, once each.
func (s *stores) Close() error {
	err := s.records.Close()
	if c, ok := s.cache.(*bolt.Store); ok && any(c) != any(s.records) {
		err = errors.Join(err, c.Close())
	}
	return err
}

// cachePath is a replica's local cache in front of PostgreSQL.
func cachePath(cfg *configs.Config) string { return cfg.ResolvePath("cache.db") }

// openTimeout bounds connecting to PostgreSQL at start.
const openTimeout = 30 * time.Second

func openStores(cfg *configs.Config, getenv func(string) string) (*stores, error) {
	if cfg.Store.Type != "postgres" {
		st, err := bolt.Open(storePath(cfg), bolt.Options{})
		if err != nil {
			return nil, err
		}
		return &stores{records: st, cache: st}, nil
	}
	dsn, err := cfg.Store.LoadDSN(cfg.DataDir, getenv)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	pg, err := postgres.Open(ctx, postgres.Options{DSN: dsn, MaxConns: int32(cfg.Store.MaxConns)})
	if err != nil {
		return nil, err
	}
	cache, err := bolt.Open(cachePath(cfg), bolt.Options{})
	if err != nil {
		pg.Close()
		return nil, fmt.Errorf("local cache: %w", err)
	}
	return &stores{records: pg, cache: cache, shared: pg}, nil
}

// offlineStore opens the configured record store for the CLI when no
// server runs.
func offlineStore(cfg *configs.Config) (*stores, error) {
	return openStores(cfg, os.Getenv)
}
