// Package loadgen holds what the load generators (cmd/scepload,
// cmd/estload, cmd/ocspload) do alike: refusing to aim load anywhere but
// loopback unless told to, and preparing requests on every CPU.
package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// CheckURL parses the -url flag of tool: one of schemes, a host, no query
// or fragment, and a loopback host unless allowRemote, so that a typo
// cannot load someone else's server.
func CheckURL(tool, raw string, schemes []string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: -url: %w", tool, err)
	}
	if !slices.Contains(schemes, u.Scheme) {
		return nil, fmt.Errorf("%s: -url %q: want an %s URL", tool, raw, strings.Join(schemes, " or "))
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%s: -url %q has no host", tool, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: -url %q: want no query or fragment", tool, raw)
	}
	if allowRemote || u.Hostname() == "localhost" {
		return u, nil
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		hint := ""
		if !allowRemote {
			hint = " (use -allow-remote)"
		}
		return nil, fmt.Errorf("%s: -url host %q is not a loopback address%s", tool, u.Hostname(), hint)
	}
	return u, nil
}

// Parallel runs f for 0..n-1 on every CPU. A worker whose f fails stops;
// the others go on, and every error is returned, joined.
func Parallel(n int, f func(int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var errs error
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := f(i); err != nil {
					mu.Lock()
					errs = errors.Join(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return errs
}
