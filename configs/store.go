package configs

import (
	"fmt"
	"os"
	"strings"
)

// StoreConfig chooses where certificate records live.
type StoreConfig struct {
	// Type is "bbolt" (default: <data_dir>/certgate.db, one process) or
	// "postgres" (shared by several replicas; each keeps its pre-signed
	// OCSP responses and CRLs in a local bbolt cache, <data_dir>/cache.db,
	// and one of them at a time, the leader, builds the CRLs and
	// re-signs OCSP responses for all).
	// Env CERTGATE_STORE_TYPE.
	Type string `yaml:"type"`
	// DSNEnv or DSNFile (relative to data_dir) holds the PostgreSQL DSN,
	// which usually carries a password and is never logged; exactly one
	// for type postgres. Env CERTGATE_STORE_DSN_ENV, CERTGATE_STORE_DSN_FILE.
	DSNEnv  string `yaml:"dsn_env"`
	DSNFile string `yaml:"dsn_file"`
	// MaxConns caps the connection pool; 0 means the DSN's pool_max_conns
	// or pgx's default. Each replica also holds one connection of its own
	// for the leader lease. Keep the sum over replicas below the server's
	// max_connections.
	MaxConns int `yaml:"max_conns"`
}

func defaultStore() StoreConfig { return StoreConfig{Type: "bbolt"} }

func (s *StoreConfig) validate(p *problems) {
	checkOneOf(p, "store.type", s.Type, "bbolt", "postgres")
	if s.Type != "postgres" {
		if s.DSNEnv != "" || s.DSNFile != "" {
			p.add("store.dsn_env", "only for store.type postgres")
		}
		return
	}
	if (s.DSNEnv == "") == (s.DSNFile == "") {
		p.add("store", "type postgres needs exactly one of dsn_env and dsn_file")
	}
	checkEnvName(p, "store.dsn_env", s.DSNEnv)
	if s.MaxConns < 0 || s.MaxConns > 1000 {
		p.add("store.max_conns", "%d is outside 0..1000", s.MaxConns)
	}
}

// LoadDSN reads the PostgreSQL DSN from its env var or file; errors name
// the source, never the value.
func (s StoreConfig) LoadDSN(dataDir string, getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if s.DSNEnv != "" {
		v := strings.TrimSpace(getenv(s.DSNEnv))
		if v == "" {
			return "", fmt.Errorf("configs: store: dsn_env %s is empty", s.DSNEnv)
		}
		return v, nil
	}
	b, err := os.ReadFile(resolve(dataDir, s.DSNFile))
	if err != nil {
		return "", fmt.Errorf("configs: store: dsn_file: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("configs: store: dsn_file %s is empty", s.DSNFile)
	}
	return v, nil
}
