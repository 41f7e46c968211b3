package main

import (
	"testing"
	"time"

	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
)

func TestOCSPValidityFor(t *testing.T) {
	cfg := &configs.Config{Profiles: []configs.Profile{
		{Validator: configs.ValidatorConfig{Type: "intune"}, DeviceState: &configs.DeviceStateConfig{Source: "intune"}},
		{Validator: configs.ValidatorConfig{Type: "intune"}, DeviceState: &configs.DeviceStateConfig{Source: "intune", OCSPGoodValidity: configs.Duration(2 * time.Minute)}},
		{},
	}}
	cfg.Profiles[0].Name, cfg.Profiles[1].Name, cfg.Profiles[2].Name = "dev", "short", "plain"
	fn := ocspValidityFor(cfg)
	for _, tc := range []struct {
		name string
		rec  store.CertRecord
		want time.Duration
	}{
		{"ok/good device-bound gets the default bound", store.CertRecord{Profile: "dev", DeviceID: "d", Status: store.StatusValid}, 10 * time.Minute},
		{"ok/held gets at most 5m", store.CertRecord{Profile: "dev", DeviceID: "d", Status: store.StatusRevoked, RevocationReason: store.ReasonCertificateHold}, 5 * time.Minute},
		{"ok/held under a shorter bound keeps it", store.CertRecord{Profile: "short", DeviceID: "d", Status: store.StatusRevoked, RevocationReason: store.ReasonCertificateHold}, 2 * time.Minute},
		{"ok/permanent revocation unbounded", store.CertRecord{Profile: "dev", DeviceID: "d", Status: store.StatusRevoked, RevocationReason: store.ReasonCessationOfOperation}, 0},
		{"ok/no device ID unbounded", store.CertRecord{Profile: "dev", Status: store.StatusValid}, 0},
		{"ok/profile without device state unbounded", store.CertRecord{Profile: "plain", DeviceID: "d", Status: store.StatusValid}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fn(&tc.rec); got != tc.want {
				t.Fatalf("bound %s, want %s", got, tc.want)
			}
		})
	}
	if ocspValidityFor(&configs.Config{Profiles: []configs.Profile{{}}}) != nil {
		t.Fatal("a bound without any device_state profile")
	}
}
