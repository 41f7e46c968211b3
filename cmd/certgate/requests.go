package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/certgate/certgate/cmd/certgate/adminapi"
	"github.com/certgate/certgate/store"
)

func runRequests(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"requests: want a subcommand: list, approve ID or reject ID"}
	}
	switch args[0] {
	case "list":
		return runRequestsList(args[1:], stdout, stderr)
	case "approve", "reject":
		return runRequestsDecide(args[0], args[1:], stdout, stderr)
	}
	return &usageError{fmt.Sprintf("requests: unknown subcommand %q (want list, approve or reject)", args[0])}
}

func runRequestsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("requests list", stderr)
	cf := addCommonFlags(fs)
	status := fs.String("status", "pending", "pending, approved, rejected, issued, or all")
	profile := fs.String("profile", "", "profile name")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	v := url.Values{"limit": {"1000"}}
	if *status != "all" {
		if _, err := store.ParseRequestStatus(*status); err != nil {
			return &usageError{err.Error()}
		}
		v.Set("status", *status)
	}
	if *profile != "" {
		v.Set("profile", *profile)
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	var page struct {
		Requests []adminapi.RequestView `json:"requests"`
	}
	if _, err := api.do(context.Background(), "GET", "/api/v1/requests?"+v.Encode(), nil, &page, ""); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(page.Requests)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tPROFILE\tPROTOCOL\tCREATED\tSUBJECT")
	for _, r := range page.Requests {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Profile, r.Protocol, r.CreatedAt.UTC().Format(time.RFC3339), r.Subject)
	}
	return tw.Flush()
}

func runRequestsDecide(verb string, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("requests "+verb, stderr)
	cf := addCommonFlags(fs)
	reason := fs.String("reason", "", "why (recorded with the decision)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"requests " + verb + ": want exactly one request ID"}
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	var r adminapi.RequestView
	if _, err := api.do(context.Background(), "POST", "/api/v1/requests/"+url.PathEscape(pos[0])+"/"+verb,
		map[string]string{"reason": *reason}, &r, ""); err != nil {
		return fmt.Errorf("request %s: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "request %s %s (%s, profile %s)\n", r.ID, r.Status, r.Subject, r.Profile)
	return nil
}

func runChallenge(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "rotate" {
		return runChallengeRotate(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "new" {
		return &usageError{"challenge: want: challenge new PROFILE [--ttl D] [--subject CN] [--device ID] | challenge rotate PROFILE [--grace D]"}
	}
	fs := newFlagSet("challenge new", stderr)
	cf := addCommonFlags(fs)
	ttl := fs.String("ttl", "", "lifetime (default: the profile's validator.one_time_ttl)")
	subject := fs.String("subject", "", "only a request with this CN may use it")
	device := fs.String("device", "", "only a request naming this device ID may use it")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"challenge new: want exactly one PROFILE"}
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	var got struct {
		Challenge string    `json:"challenge"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if _, err := api.do(context.Background(), "POST", "/api/v1/profiles/"+url.PathEscape(pos[0])+"/challenges",
		map[string]string{"ttl": *ttl, "subject": *subject, "device_id": *device}, &got, ""); err != nil {
		return err
	}
	fmt.Fprintln(stdout, got.Challenge)
	fmt.Fprintf(stderr, "one-time challenge for profile %s, valid until %s\n", pos[0], got.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

// runChallengeRotate replaces a profile's static challenge; the old ones
// stay valid for --grace.
func runChallengeRotate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("challenge rotate", stderr)
	cf := addCommonFlags(fs)
	grace := fs.String("grace", "24h", "how long the previous challenges stay valid")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"challenge rotate: want exactly one PROFILE"}
	}
	api, err := cf.api()
	if err != nil {
		return err
	}
	defer api.Close()
	var got struct {
		Challenge string    `json:"challenge"`
		Until     time.Time `json:"previous_valid_until"`
	}
	if _, err := api.do(context.Background(), "PUT", "/api/v1/profiles/"+url.PathEscape(pos[0])+"/static-challenge",
		map[string]string{"grace": *grace}, &got, ""); err != nil {
		return err
	}
	fmt.Fprintln(stdout, got.Challenge)
	fmt.Fprintf(stderr, "new static challenge for profile %s; the previous ones are valid until %s\n", pos[0], got.Until.UTC().Format(time.RFC3339))
	return nil
}
