package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/certgate/certgate/ca/local"
)

func runCA(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "init" {
		return &usageError{"ca: want a subcommand: init"}
	}
	fs := newFlagSet("ca init", stderr)
	cf := addCommonFlags(fs)
	cn := fs.String("cn", "certgate", "common name prefix for the new root and issuing CA")
	force := fs.Bool("force", false, "replace an existing CA (certificates it issued will no longer chain)")
	importCert := fs.String("import-cert", "", "PEM certificate of an existing intermediate CA to import instead of creating one")
	importKey := fs.String("import-key", "", "its PEM private key (PKCS#8, PKCS#1 or SEC1, encrypted or not)")
	importChain := fs.String("import-chain", "", "PEM file with the intermediate's issuers up to the root (optional)")
	passEnv := fs.String("key-passphrase-env", "", "name of the environment variable holding the key passphrase")
	passFile := fs.String("key-passphrase-file", "", "file holding the key passphrase")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	dir := caDir(cfg)

	if *importCert == "" && *importKey == "" {
		if err := local.Init(dir, local.InitOptions{CommonName: *cn, Force: *force}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created root and issuing CA in %s\n", dir)
		return printFingerprints(stdout, dir)
	}
	if *importCert == "" || *importKey == "" {
		return &usageError{"ca init: --import-cert and --import-key go together"}
	}
	if local.Exists(dir) && !*force {
		return fmt.Errorf("a CA already exists in %s (use --force to replace it)", dir)
	}
	certPEM, err := os.ReadFile(*importCert)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(*importKey)
	if err != nil {
		return err
	}
	var chainPEM []byte
	if *importChain != "" {
		if chainPEM, err = os.ReadFile(*importChain); err != nil {
			return err
		}
	}
	// The flags win; otherwise the config's ca.key_passphrase_env/_file
	// say where an import's passphrase is.
	if *passEnv == "" && *passFile == "" {
		*passEnv, *passFile = cfg.CA.KeyPassphraseEnv, cfg.CA.KeyPassphraseFile
		if *passFile != "" {
			*passFile = cfg.ResolvePath(*passFile)
		}
	}
	pass, err := readPassphrase(*passEnv, *passFile)
	if err != nil {
		return err
	}
	if err := local.Import(dir, certPEM, keyPEM, chainPEM, pass); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported issuing CA into %s\n", dir)
	return printFingerprints(stdout, dir)
}

// readPassphrase takes the passphrase from an env var or a file, never from
// a flag (flags show in ps and shell history).
func readPassphrase(envName, file string) ([]byte, error) {
	switch {
	case envName != "" && file != "":
		return nil, &usageError{"give --key-passphrase-env or --key-passphrase-file, not both"}
	case envName != "":
		v, ok := os.LookupEnv(envName)
		if !ok {
			return nil, fmt.Errorf("key passphrase: environment variable %s is not set", envName)
		}
		return []byte(v), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("key passphrase: %w", err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	return nil, nil
}

func printFingerprints(w io.Writer, dir string) error {
	c, err := local.Load(dir, local.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  issuing CA: %s\n    SHA-256 %s\n", c.Certificate().Subject, local.Fingerprint(c.Certificate()))
	fmt.Fprintf(w, "  root CA:    %s\n    SHA-256 %s\n", c.Root().Subject, local.Fingerprint(c.Root()))
	return nil
}
