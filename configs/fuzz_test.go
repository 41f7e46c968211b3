package configs

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that no input makes decoding or validation panic. Its
// seeds (every YAML file in this package) also run as a plain test.
func FuzzDecode(f *testing.F) {
	f.Add(defaultYAML)
	files, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, "certgate.example.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := defaults()
		if err := decodeStrict(data, c); err != nil {
			return
		}
		c.derive()
		_ = c.Validate()
	})
}
