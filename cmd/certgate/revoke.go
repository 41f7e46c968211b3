package main

import (
	"context"
	"errors"
	"fmt"
	"io"

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
	reason, err := store.ParseReason(*reasonName)
	if err != nil {
		return &usageError{err.Error()}
	}
	adm, err := cf.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	rec, err := adm.Revoke(context.Background(), serial, reason)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no certificate with serial %s", pos[0])
	}
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("serial %s was reserved but never issued; nothing to revoke", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked %s at %s (reason %s)\n", rec.SerialHex, rec.RevokedAt.UTC().Format("2006-01-02T15:04:05Z"), store.ReasonName(rec.RevocationReason))
	return nil
}
