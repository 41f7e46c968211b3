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
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	serial, err := serialArg("revoke", pos)
	if err != nil {
		return err
	}
	if _, err := store.ParseReason(*reasonName); err != nil {
		return &usageError{err.Error()}
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	var rec adminapi.CertView
	_, err = api.do(context.Background(), "POST", "/api/v1/certificates/"+store.SerialHex(serial)+"/revoke",
		map[string]string{"reason": *reasonName}, &rec, "")
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no certificate with serial %s", pos[0])
	}
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("serial %s was reserved but never issued; nothing to revoke", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked %s at %s (reason %s)\n", rec.Serial, rec.RevokedAt.UTC().Format("2006-01-02T15:04:05Z"), rec.Reason)
	return nil
}
