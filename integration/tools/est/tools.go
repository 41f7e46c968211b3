//go:build tools

// Package tools pins globalsign's EST client and server, which the EST
// integration tests and integration/bench/est-compare.sh run as real
// peers. It is a module of its own so that est's old dependencies never
// reach certgate's go.mod and go.sum; scripts/install-est-tools builds the
// two commands from here.
package tools

import (
	_ "github.com/globalsign/est/cmd/estclient"
	_ "github.com/globalsign/est/cmd/estserver"
)
