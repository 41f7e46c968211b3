package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/certgate/certgate/ca/escrow"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
)

// escrowKeyPath is the key-encryption key of escrowed keys in the data dir.
func escrowKeyPath(cfg *configs.Config) string { return cfg.ResolvePath("escrow.key") }

// openEscrow returns the sealer when some profile escrows keys, creating
// its key on first use, and nil otherwise.
func openEscrow(cfg *configs.Config) (*escrow.Sealer, error) {
	for _, p := range cfg.Profiles {
		if k := p.EST.ServerKeyGen; k != nil && k.Escrow {
			return escrow.LoadOrCreate(escrowKeyPath(cfg))
		}
	}
	return nil, nil
}

func runEscrow(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "recover" {
		return &usageError{"escrow: want: escrow recover SERIAL [--out FILE]"}
	}
	fs := newFlagSet("escrow recover", stderr)
	cf := addCommonFlags(fs)
	out := fs.String("out", "", "write the PEM private key to this file (mode 0600) instead of stdout")
	serial, arg, api, err := serialCommand("escrow recover", fs, cf, args[1:], nil)
	if err != nil {
		return err
	}
	defer api.Close()
	var got struct {
		Serial string `json:"serial"`
		Key    string `json:"private_key_pem"`
	}
	_, err = api.do(context.Background(), "POST", "/api/v1/certificates/"+store.SerialHex(serial)+"/recover-key", nil, &got, "")
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("serial %s: %w", arg, err)
	}
	if err != nil {
		return err
	}
	block := []byte(got.Key)
	if *out == "" {
		_, err = stdout.Write(block)
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(block); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote the private key of %s to %s\n", got.Serial, *out)
	return nil
}
