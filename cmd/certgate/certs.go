package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/certgate/certgate/cmd/certgate/adminapi"
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

// api loads the config and connects to the admin API: the running
// server's socket, or the database when no server runs.
func (c commonFlags) api() (*apiClient, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	return openAPI(cfg)
}

// serialCommand parses args for a command whose one argument is a SERIAL
// and connects to the admin API; check, if not nil, vets the parsed flags
// before the connection. It returns the serial and the argument as given
// (for messages).
func serialCommand(cmd string, fs *flag.FlagSet, cf commonFlags, args []string, check func() error) (*big.Int, string, *apiClient, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, "", nil, err
	}
	serial, err := serialArg(cmd, pos)
	if err != nil {
		return nil, "", nil, err
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, "", nil, err
		}
	}
	api, err := cf.api()
	if err != nil {
		return nil, "", nil, err
	}
	return serial, pos[0], api, nil
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
	v, want, err := listQuery(*status, *profile, *subject, *device, *expiring, *limit, time.Now())
	if err != nil {
		return &usageError{err.Error()}
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	recs, err := api.listCerts(context.Background(), v, want)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tSTATUS\tPROFILE\tPROTOCOL\tNOT AFTER\tSUBJECT")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Serial, r.Status, r.Profile, r.Protocol,
			r.NotAfter.UTC().Format(time.RFC3339), r.Subject)
	}
	return tw.Flush()
}

func runCertsShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("certs show", stderr)
	cf := addCommonFlags(fs)
	asPEM := fs.Bool("pem", false, "print the certificate as PEM only")
	serial, arg, api, err := serialCommand("certs show", fs, cf, args, nil)
	if err != nil {
		return err
	}
	defer api.Close()
	path := "/api/v1/certificates/" + store.SerialHex(serial)
	pemBytes, err := api.do(context.Background(), "GET", path, nil, nil, "application/pem-certificate-chain")
	if err != nil {
		return fmt.Errorf("serial %s: %w", arg, err)
	}
	if *asPEM {
		_, err = stdout.Write(pemBytes)
		return err
	}
	var rec adminapi.CertView
	if _, err := api.do(context.Background(), "GET", path, nil, &rec, ""); err != nil {
		return fmt.Errorf("serial %s: %w", arg, err)
	}
	printRecord(stdout, &rec)
	_, err = stdout.Write(pemBytes)
	return err
}

func printRecord(w io.Writer, r *adminapi.CertView) {
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-16s %s\n", k+":", v)
		}
	}
	ts := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	line("serial", r.Serial)
	line("status", string(r.Status))
	line("subject", r.Subject)
	line("issuer", r.Issuer)
	line("profile", r.Profile)
	line("protocol", r.Protocol)
	line("not before", ts(&r.NotBefore))
	line("not after", ts(&r.NotAfter))
	line("issued at", ts(r.IssuedAt))
	line("dns names", strings.Join(r.SANs.DNS, ", "))
	line("emails", strings.Join(r.SANs.Email, ", "))
	line("uris", strings.Join(r.SANs.URI, ", "))
	line("upns", strings.Join(r.SANs.UPN, ", "))
	line("device id", r.DeviceID)
	line("transaction id", r.TransactionID)
	line("renewal of", r.RenewalOf)
	if r.Test {
		line("test", "yes (admin API test certificate)")
	}
	if r.Status == store.StatusRevoked {
		line("revoked at", ts(r.RevokedAt))
		line("reason", r.Reason)
	}
}

// listQuery turns the list flags into API query parameters; want is how
// many records to fetch in all (pages of at most 1000).
func listQuery(status, profile, subject, device, expiring string, limit int, now time.Time) (url.Values, int, error) {
	v := url.Values{}
	if status != "" {
		if _, err := store.ParseStatus(status); err != nil {
			return nil, 0, err
		}
		v.Set("status", status)
	}
	for k, val := range map[string]string{"profile": profile, "subject": subject, "device_id": device} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if expiring != "" {
		d, err := time.ParseDuration(expiring)
		if err != nil || d <= 0 {
			return nil, 0, fmt.Errorf("expiring-within: %q is not a positive duration (e.g. 720h)", expiring)
		}
		v.Set("expires_after", now.UTC().Format(time.RFC3339))
		v.Set("expires_before", now.Add(d).UTC().Format(time.RFC3339))
	}
	if limit < 0 {
		return nil, 0, fmt.Errorf("limit: %d is negative", limit)
	}
	if limit == 0 {
		limit = store.DefaultLimit
	}
	return v, limit, nil
}

// listCerts pages through /api/v1/certificates until want records or the
// end.
func (c *apiClient) listCerts(ctx context.Context, v url.Values, want int) ([]adminapi.CertView, error) {
	out := []adminapi.CertView{}
	for len(out) < want {
		v.Set("limit", strconv.Itoa(min(want-len(out), 1000)))
		var page struct {
			Certificates []adminapi.CertView `json:"certificates"`
			NextCursor   string              `json:"next_cursor"`
		}
		if _, err := c.do(ctx, "GET", "/api/v1/certificates?"+v.Encode(), nil, &page, ""); err != nil {
			return nil, err
		}
		out = append(out, page.Certificates...)
		if page.NextCursor == "" {
			break
		}
		v.Set("cursor", page.NextCursor)
	}
	return out, nil
}
