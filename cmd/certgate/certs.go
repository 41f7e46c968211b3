package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
)

func runCerts(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"certs: want a subcommand: list or show"}
	}
	switch args[0] {
	case "list":
		return runCertsList(args[1:], stdout, stderr)
	case "show":
		return runCertsShow(args[1:], stdout, stderr)
	}
	return &usageError{fmt.Sprintf("certs: unknown subcommand %q (want list or show)", args[0])}
}

// commonFlags are the flags every store-touching command takes to find the
// data dir the same way serve does.
type commonFlags struct {
	config, dataDir *string
}

func addCommonFlags(fs interface {
	String(name, value, usage string) *string
}) commonFlags {
	return commonFlags{
		config:  fs.String("config", "", "YAML config file (default: the embedded default)"),
		dataDir: fs.String("data-dir", "", "data directory (overrides data_dir and CERTGATE_DATA_DIR)"),
	}
}

// admin loads the config and connects to the running server's admin socket,
// or opens the database when no server runs.
func (c commonFlags) admin() (certAdmin, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	return openAdmin(cfg)
}

// serialArg takes the single SERIAL argument of a command.
func serialArg(cmd string, pos []string) (*big.Int, error) {
	if len(pos) != 1 {
		return nil, &usageError{cmd + ": want exactly one SERIAL"}
	}
	serial, err := store.ParseSerial(pos[0])
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	return serial, nil
}

func (c commonFlags) load() (*configs.Config, error) {
	getenv := os.Getenv
	if *c.dataDir != "" {
		getenv = overrideEnv(os.Getenv, "CERTGATE_DATA_DIR", *c.dataDir)
	}
	return configs.Load(*c.config, getenv)
}

func runCertsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("certs list", stderr)
	cf := addCommonFlags(fs)
	status := fs.String("status", "", "reserved, valid or revoked (default: all but reserved)")
	profile := fs.String("profile", "", "profile name")
	subject := fs.String("subject", "", "substring of the subject DN (case-insensitive)")
	device := fs.String("device", "", "device ID")
	expiring := fs.String("expiring-within", "", "only certificates expiring within this duration (e.g. 720h)")
	limit := fs.Int("limit", 0, "at most this many (default 1000)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	v := url.Values{}
	for k, s := range map[string]string{"status": *status, "profile": *profile, "subject": *subject,
		"device": *device, "expiring_within": *expiring} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if *limit != 0 {
		v.Set("limit", fmt.Sprint(*limit))
	}
	// Validate filters before touching the store, so a typo is a usage error.
	if _, err := queryFromValues(v, time.Now()); err != nil {
		return &usageError{err.Error()}
	}
	adm, err := cf.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	recs, err := adm.Search(context.Background(), v)
	if err != nil {
		return err
	}
	for _, r := range recs {
		r.EscrowedKey = nil // sealed, but key material all the same: only escrow recover shows it
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tSTATUS\tPROFILE\tPROTOCOL\tNOT AFTER\tSUBJECT")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.SerialHex, r.Status, r.Profile, r.Protocol,
			r.NotAfter.UTC().Format(time.RFC3339), r.Subject)
	}
	return tw.Flush()
}

func runCertsShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("certs show", stderr)
	cf := addCommonFlags(fs)
	asPEM := fs.Bool("pem", false, "print the certificate as PEM only")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	serial, err := serialArg("certs show", pos)
	if err != nil {
		return err
	}
	adm, err := cf.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	rec, err := adm.Cert(context.Background(), serial)
	if err != nil {
		return fmt.Errorf("serial %s: %w", pos[0], err)
	}
	if *asPEM {
		return pem.Encode(stdout, &pem.Block{Type: "CERTIFICATE", Bytes: rec.DER})
	}
	printRecord(stdout, rec)
	return pem.Encode(stdout, &pem.Block{Type: "CERTIFICATE", Bytes: rec.DER})
}

func printRecord(w io.Writer, r *store.CertRecord) {
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-16s %s\n", k+":", v)
		}
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	line("serial", r.SerialHex)
	line("status", string(r.Status))
	line("subject", r.Subject)
	line("issuer", r.Issuer)
	line("profile", r.Profile)
	line("protocol", r.Protocol)
	line("not before", ts(r.NotBefore))
	line("not after", ts(r.NotAfter))
	line("issued at", ts(r.IssuedAt))
	line("dns names", strings.Join(r.DNSNames, ", "))
	line("emails", strings.Join(r.EmailAddrs, ", "))
	line("uris", strings.Join(r.URIs, ", "))
	line("upns", strings.Join(r.UPNs, ", "))
	line("device id", r.DeviceID)
	line("transaction id", r.TransactionID)
	line("requester", r.RequesterAddr)
	line("renewal of", r.RenewalOf)
	if r.Status == store.StatusRevoked {
		line("revoked at", ts(r.RevokedAt))
		line("reason", store.ReasonName(r.RevocationReason))
	}
}
