package local

import (
	"bytes"
	"io"
	"testing"
)

func TestRandomSerial(t *testing.T) {
	zeros := make([]byte, serialBytes)
	ones := bytes.Repeat([]byte{0xff}, serialBytes)
	topBitOnly := append([]byte{0x80}, make([]byte, serialBytes-1)...)
	tests := []struct {
		name    string
		r       io.Reader
		bits    int
		wantErr string
	}{
		{name: "ok/top bit cleared", r: bytes.NewReader(ones), bits: 159},
		{name: "ok/zero redrawn", r: io.MultiReader(bytes.NewReader(zeros), bytes.NewReader(ones)), bits: 159},
		{name: "ok/top bit only is zero, redrawn", r: io.MultiReader(bytes.NewReader(topBitOnly), bytes.NewReader(ones)), bits: 159},
		{name: "fail/always zero", r: bytes.NewReader(bytes.Repeat(zeros, maxSerialDraws)),
			wantErr: "ca: local: serial: random source keeps returning zero"},
		{name: "fail/short read", r: bytes.NewReader(ones[:5]), wantErr: "ca: local: serial: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := randomSerial(tt.r)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.BitLen() != tt.bits || n.Sign() <= 0 {
				t.Errorf("serial %x: %d bits, sign %d", n, n.BitLen(), n.Sign())
			}
			if l := len(n.Bytes()); l > serialBytes {
				t.Errorf("serial is %d bytes", l)
			}
		})
	}
}
