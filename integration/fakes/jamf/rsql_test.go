package jamf

import (
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	rec := map[string]string{"id": "7", "udid": "ABC-def", "name": "Mac Book"}
	get := func(f string) string { return rec[f] }
	known := func(f string) bool { _, ok := rec[f]; return ok }
	tests := []struct {
		name   string
		filter string
		match  bool
		err    string
	}{
		{"ok/equal", `id==7`, true, ""},
		{"ok/equal quoted ignores case", `udid=="abc-DEF"`, true, ""},
		{"ok/single quotes with space", `name=='mac book'`, true, ""},
		{"ok/escaped quote", `name=="Mac\"Book"`, false, ""},
		{"ok/not equal", `id!=7`, false, ""},
		{"ok/wildcard", `name=="mac*"`, true, ""},
		{"ok/wildcard middle", `udid=="a*-*f"`, true, ""},
		{"ok/in", `id=in=(1, 7)`, true, ""},
		{"ok/out", `id=out=(1,7)`, false, ""},
		{"ok/and keyword", `id==7 and udid==x`, false, ""},
		{"ok/or keyword", `id==1 or udid==abc-def`, true, ""},
		{"ok/and binds tighter", `id==1;id==2,id==7`, true, ""},
		{"ok/parentheses", `id==1;(id==2,id==7)`, false, ""},
		{"fail/empty", ``, false, "expected a field name"},
		{"fail/unknown field", `serial==1`, false, "unknown filter field"},
		{"fail/operator", `id<7`, false, "unsupported operator"},
		{"fail/missing value", `id==`, false, "missing value"},
		{"fail/two values for ==", `id==(1,2)`, false, "takes one value"},
		{"fail/unclosed list", `id=in=(1,2`, false, "missing )"},
		{"fail/unclosed group", `(id==1`, false, "missing )"},
		{"fail/trailing", `id==1)`, false, "unexpected"},
		{"fail/deep nesting", strings.Repeat("(", 100) + "id==1" + strings.Repeat(")", 100), false, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parseFilter(tt.filter, known)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got := n.match(get); got != tt.match {
				t.Errorf("match = %v, want %v", got, tt.match)
			}
		})
	}
}

// Arbitrary input never panics the parser.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`id==1`, `(a==1;b=in=(x,"y")),c!='z'`, `"`, `((`, `id=in=(`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s, func(string) bool { return true })
		if err == nil {
			n.match(func(string) string { return "v" })
		}
	})
}
