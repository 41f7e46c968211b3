// Package configs is the typed configuration of `certgate serve`: the YAML
// schema, its embedded default, environment overrides and validation.
//
// Policy:
//   - Strict: unknown YAML keys are an error, never silently ignored, because
//     a misspelt key (say "validaty") would otherwise leave a default in force
//     that the operator believes they changed.
//   - Precedence, lowest first: built-in defaults, the YAML file, CERTGATE_*
//     environment variables. Every scalar key has an env twin, named in its
//     field's doc comment; lists (profiles) are set in YAML only.
//   - Relative paths (admin_socket, ca.dir, ca.key_passphrase_file,
//     validator secrets_file) are resolved against data_dir, so a deployment
//     moves by changing one key.
//   - Every validation error names the key path ("profiles[1].name: ...") and,
//     when the value came from the environment, the variable as well.
//   - Secrets come from files or the environment. Validate never reads them;
//     [ValidatorConfig.LoadSecrets] does, at start-up, and no error it
//     returns ever contains a secret's value.
//
// No other package imports configs: cmd/certgate turns a Config into each
// package's own types (ca.ProfileConfig.Build, validate.NewStatic, ...).
package configs
