package est

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// lineLen is the base64 line length of answers (RFC 2045 allows 76).
const lineLen = 64

// decodeBody decodes a base64 body, tolerating line breaks, spaces and
// missing padding (RFC 8951: the Content-Transfer-Encoding header is
// ignored). The one exception is an explicit "binary", which a few old
// clients send with a DER body.
func decodeBody(body []byte, cte string) ([]byte, error) {
	if strings.EqualFold(strings.TrimSpace(cte), "binary") {
		return body, nil
	}
	clean := bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, body)
	enc := base64.StdEncoding
	if len(clean)%4 != 0 {
		enc = base64.RawStdEncoding
		clean = bytes.TrimRight(clean, "=")
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Msg: "the body is not valid base64 (RFC 7030 §4.2.1, RFC 8951)", Err: err}
	}
	return out[:n], nil
}

// encodeBase64 encodes with line breaks every lineLen characters.
func encodeBase64(der []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(der)
	var b bytes.Buffer
	b.Grow(len(enc) + len(enc)/lineLen + 2)
	for len(enc) > lineLen {
		b.WriteString(enc[:lineLen])
		b.WriteByte('\n')
		enc = enc[lineLen:]
	}
	b.WriteString(enc)
	b.WriteByte('\n')
	return b.Bytes()
}

// writeBase64 answers 200 with a base64 body of the given media type.
func writeBase64(w http.ResponseWriter, ctype string, der []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Transfer-Encoding", "base64")
	writeBody(w, encodeBase64(der))
}

// writeBody sets Content-Length so the answer is never chunked: libest
// and several embedded clients cannot read chunked bodies.
func writeBody(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// keygenResponse builds the serverkeygen answer (RFC 7030 §4.4.2): a
// multipart/mixed body with the PKCS#8 private key, then the certificate
// as certs-only PKCS#7, both base64.
func keygenResponse(cert *x509.Certificate, pkcs8 []byte) ([]byte, string, error) {
	p7, err := certsOnly(cert)
	if err != nil {
		return nil, "", err
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	parts := []struct {
		ctype string
		body  []byte
	}{
		{typePKCS8, pkcs8},
		{typeCertsOnly, p7},
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", p.ctype)
		h.Set("Content-Transfer-Encoding", "base64")
		pw, err := mw.CreatePart(h)
		if err != nil {
			return nil, "", fmt.Errorf("est: serverkeygen answer: %w", err)
		}
		if _, err := pw.Write(encodeBase64(p.body)); err != nil {
			return nil, "", fmt.Errorf("est: serverkeygen answer: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("est: serverkeygen answer: %w", err)
	}
	return b.Bytes(), "multipart/mixed; boundary=" + mw.Boundary(), nil
}
