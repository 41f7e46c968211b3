package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/certgate/certgate/cmd/certgate/adminapi"
)

func runAdmin(args []string, stdout, stderr io.Writer) error {
	usage := &usageError{"admin: want: admin token new NAME --role R | admin token list | admin token delete ID | admin cert new NAME --role R [--out DIR]"}
	if len(args) < 2 {
		return usage
	}
	switch args[0] + " " + args[1] {
	case "token new":
		return runTokenNew(args[2:], stdout, stderr)
	case "token list":
		return runTokenList(args[2:], stdout, stderr)
	case "token delete":
		return runTokenDelete(args[2:], stdout, stderr)
	case "cert new":
		return runAdminCertNew(args[2:], stdout, stderr)
	}
	return usage
}

func runTokenNew(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin token new", stderr)
	cf := addCommonFlags(fs)
	role := fs.String("role", "viewer", "viewer, operator or admin")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"admin token new: want exactly one NAME"}
	}
	if _, err := adminapi.ParseRole(*role); err != nil {
		return &usageError{err.Error()}
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	var got struct {
		ID, Token string
	}
	if _, err := api.do(context.Background(), "POST", "/api/v1/tokens", map[string]string{"name": pos[0], "role": *role}, &got, ""); err != nil {
		return err
	}
	fmt.Fprintln(stdout, got.Token)
	fmt.Fprintf(stderr, "token %s (%s, role %s): shown once; send it as Authorization: Bearer <token>\n", got.ID, pos[0], *role)
	return nil
}

func runTokenList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin token list", stderr)
	cf := addCommonFlags(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	var got struct {
		Tokens []adminapi.TokenView `json:"tokens"`
	}
	if _, err := api.do(context.Background(), "GET", "/api/v1/tokens", nil, &got, ""); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tCREATED\tNAME")
	for _, t := range got.Tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Role, t.CreatedAt, t.Name)
	}
	return tw.Flush()
}

func runTokenDelete(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin token delete", stderr)
	cf := addCommonFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"admin token delete: want exactly one ID"}
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	if _, err := api.do(context.Background(), "DELETE", "/api/v1/tokens/"+url.PathEscape(pos[0]), nil, nil, ""); err != nil {
		return fmt.Errorf("token %s: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "deleted token %s\n", pos[0])
	return nil
}

// runAdminCertNew makes a key here, has the server sign and record an
// admin certificate for it, and writes NAME.key (0600) and NAME.crt.
func runAdminCertNew(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin cert new", stderr)
	cf := addCommonFlags(fs)
	role := fs.String("role", "viewer", "viewer, operator or admin")
	outDir := fs.String("out", ".", "directory for NAME.key and NAME.crt")
	validity := fs.String("validity", "", "lifetime (default 2160h)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" || filepath.Base(pos[0]) != pos[0] {
		return &usageError{"admin cert new: want exactly one NAME (no slashes)"}
	}
	if _, err := adminapi.ParseRole(*role); err != nil {
		return &usageError{err.Error()}
	}
	name := pos[0]
	keyPath, certPath := filepath.Join(*outDir, name+".key"), filepath.Join(*outDir, name+".crt")
	for _, p := range []string{keyPath, certPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists; remove it or choose another --out", p)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		return err
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	var got struct {
		Certificate adminapi.CertView `json:"certificate"`
		PEM         string            `json:"certificate_pem"`
	}
	body := map[string]string{"name": name, "role": *role, "validity": *validity,
		"csr_pem": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))}
	if _, err := api.do(context.Background(), "POST", "/api/v1/admin-certificates", body, &got, ""); err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(certPath, []byte(got.PEM), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "admin certificate %s for %s (role %s): %s, %s; revoke it with certgate revoke %s\n",
		got.Certificate.Serial, name, *role, certPath, keyPath, got.Certificate.Serial)
	return nil
}
