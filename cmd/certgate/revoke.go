package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/certgate/certgate/cmd/certgate/adminapi"
	"github.com/certgate/certgate/store"
)

func runRevoke(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("revoke", stderr)
	cf := addCommonFlags(fs)
	reasonName := fs.String("reason", "unspecified", "RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise")
	serial, arg, api, err := serialCommand("revoke", fs, cf, args, func() error {
		if _, err := store.ParseReason(*reasonName); err != nil {
			return &usageError{err.Error()}
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer api.Close()
	var rec adminapi.CertView
	_, err = api.do(context.Background(), "POST", "/api/v1/certificates/"+store.SerialHex(serial)+"/revoke",
		map[string]string{"reason": *reasonName}, &rec, "")
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no certificate with serial %s", arg)
	}
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("serial %s was reserved but never issued; nothing to revoke", arg)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked %s at %s (reason %s)\n", rec.Serial, rec.RevokedAt.UTC().Format("2006-01-02T15:04:05Z"), rec.Reason)
	return nil
}

// runReleaseHold is `certgate release-hold SERIAL`: the certificate, on
// certificateHold, becomes valid again (RFC 5280 removeFromCRL), through
// the running server's revocation path or, with none, in the database.
func runReleaseHold(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("release-hold", stderr)
	cf := addCommonFlags(fs)
	serial, arg, api, err := serialCommand("release-hold", fs, cf, args, nil)
	if err != nil {
		return err
	}
	defer api.Close()
	var rec adminapi.CertView
	_, err = api.do(context.Background(), "POST", "/api/v1/certificates/"+store.SerialHex(serial)+"/release-hold", nil, &rec, "")
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("no certificate with serial %s", arg)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("serial %s is not on certificateHold; only a hold can be released", arg)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "released %s: %s again\n", rec.Serial, rec.Status)
	return nil
}
