package configs

import (
	"net/url"
	"time"
)

// JamfConfig configures the jamf validator (validator.type: jamf), in one
// or both of Jamf's modes: Jamf Pro as SCEP proxy with a static challenge
// (secrets*), or per-device challenges minted by a webhook Jamf calls
// (SCEPChallenge event). Either way the certificate is bound to the Jamf
// object: subject CN=$JSSID, OU=computers|devices|users-on-computers|
// users-on-devices.
type JamfConfig struct {
	// BindSubject requires that subject shape and records
	// "<kind>/<JSSID>" as the device ID. Default true.
	BindSubject *bool `yaml:"bind_subject"`
	// Webhook, when set, serves POST https://<est.listen>/jamf/<profile>/scep-challenge.
	Webhook *JamfWebhookConfig `yaml:"webhook"`
	// API, when set, checks every device against Jamf Pro's inventory.
	API *JamfAPIConfig `yaml:"api"`
}

// JamfWebhookConfig is the SCEPChallenge webhook's settings.
type JamfWebhookConfig struct {
	// Username and PasswordEnv are the HTTP Basic credentials Jamf sends.
	Username    string `yaml:"username"`
	PasswordEnv string `yaml:"password_env"`
	// TTL of a minted challenge; 1m..24h, default 1h.
	TTL Duration `yaml:"ttl"`
	// Bind is "none" (default: the challenge is single use and bound to
	// the profile), "payload" (to the event's payloadIdentifier, which the
	// CSR must then carry as CN or URI SAN suffix) or "udid".
	Bind string `yaml:"bind"`
}

// JamfAPIConfig is the Jamf Pro API client for device checks.
type JamfAPIConfig struct {
	// URL is the Jamf Pro base, https://<tenant>.jamfcloud.com.
	URL string `yaml:"url"`
	// ClientID and ClientSecretEnv are API client credentials.
	ClientID        string `yaml:"client_id"`
	ClientSecretEnv string `yaml:"client_secret_env"`
	// CAFile is a PEM file of extra trust anchors. Default: system roots.
	CAFile string `yaml:"ca_file"`
	// Timeout per call; 1s..5m, default 30s.
	Timeout Duration `yaml:"timeout"`
}

func (j *JamfConfig) validate(p *problems, key string, v *ValidatorConfig) {
	if !v.HasStaticSecrets() && j.Webhook == nil {
		p.add(key, "jamf needs a static challenge (secrets, secrets_env or secrets_file) or a webhook")
	}
	if w := j.Webhook; w != nil {
		if w.Username == "" || w.PasswordEnv == "" {
			p.add(key+".webhook", "needs username and password_env")
		}
		checkEnvName(p, key+".webhook.password_env", w.PasswordEnv)
		checkOneOf(p, key+".webhook.bind", w.Bind, "none", "payload", "udid")
		if w.TTL != 0 && (w.TTL < Duration(time.Minute) || w.TTL > Duration(24*time.Hour)) {
			p.add(key+".webhook.ttl", "%s is outside 1m..24h", w.TTL)
		}
	}
	if a := j.API; a != nil {
		if u, err := url.Parse(a.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			p.add(key+".api.url", "%q is not an https URL", a.URL)
		}
		if a.ClientID == "" || a.ClientSecretEnv == "" {
			p.add(key+".api", "needs client_id and client_secret_env")
		}
		checkEnvName(p, key+".api.client_secret_env", a.ClientSecretEnv)
		if a.Timeout != 0 && (a.Timeout < Duration(time.Second) || a.Timeout > Duration(5*time.Minute)) {
			p.add(key+".api.timeout", "%s is outside 1s..5m", a.Timeout)
		}
	}
}
