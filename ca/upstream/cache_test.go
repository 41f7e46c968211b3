package upstream

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestCacheConcurrent: while one caller refreshes, others get the old
// value at once, or, with none yet, wait for the fetch or their context.
func TestCacheConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name       string
		primed     bool // a value was fetched before (and has expired)
		cancel     bool // the second caller's context ends while it waits
		want       string
		wantErr    error
		wantFetchs int32
	}{
		{"ok/stale-while-refreshing", true, false, "v1", nil, 2},
		{"ok/waits-for-the-first-fetch", false, false, "v2", nil, 1},
		{"fail/waiter-gives-up", false, true, "", context.Canceled, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			var fetches atomic.Int32
			entered, release := make(chan struct{}, 1), make(chan struct{})
			c := newCache(time.Minute, clk.Now, func(ctx context.Context) (string, error) {
				n := fetches.Add(1)
				if tc.primed && n == 1 {
					return "v1", nil
				}
				entered <- struct{}{}
				<-release
				return "v2", nil
			})
			if tc.primed {
				if _, err := c.get(context.Background()); err != nil {
					t.Fatal(err)
				}
				clk.Advance(2 * time.Minute)
			}
			first := make(chan string)
			go func() {
				v, _ := c.get(context.Background())
				first <- v
			}()
			<-entered // the first caller is fetching

			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			if !tc.primed && !tc.cancel {
				// Released while (or, if the scheduler says so, before)
				// this caller waits: either way it must get v2.
				go close(release)
			}
			got, err := c.get(ctx)
			cancel()
			if tc.primed || tc.cancel {
				close(release)
			}
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("get = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if v := <-first; v != "v2" {
				t.Fatalf("the refreshing caller got %q, want v2", v)
			}
			if n := fetches.Load(); n != tc.wantFetchs {
				t.Fatalf("%d fetches, want %d", n, tc.wantFetchs)
			}
		})
	}
}
