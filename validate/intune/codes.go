package intune

import "strconv"

// CodeSuccess is the only validateRequest or notification code that
// allows issuance.
const CodeSuccess = "Success"

// RejectionCodes are the non-Success codes of ScepRequestValidationFEService
// (the reference library's complete enum, INTEGRATIONS.md §3.5). Validate
// rejects on any code that is not Success, listed here or not; this list
// decides only whether a non-2xx answer is a rejection or an error.
var RejectionCodes = []string{
	"Unknown",
	"CertificateRequestDecodingFailed",
	"ChallengePasswordMissing",
	"ChallengeDeserializationError",
	"ChallengeDecryptionError",
	"ChallengeDecodingError",
	"ChallengeInvalidTimestamp",
	"ChallengeExpired",
	"SubjectNameMissing",
	"SubjectNameMismatch",
	"SubjectAltNameMissing",
	"SubjectAltNameMismatch",
	"KeyUsageMismatch",
	"KeyLengthMismatch",
	"EnhancedKeyUsageMissing",
	"EnhancedKeyUsageMismatch",
	"AadKeyIdentifierListMissing",
	"RegisteredKeyMismatch",
	"SigningCertThumbprintMismatch",
	"ScepProfileNoLongerTargetedToTheClient",
	"SignatureValidationFailed",
	"BadCertificateRequestIdInChallenge",
	"BadDeviceIdInChallenge",
	"BadUserIdInChallenge",
}

func knownRejection(code string) bool {
	for _, c := range RejectionCodes {
		if c == code {
			return true
		}
	}
	return false
}

// safeCode returns code if it is short and plain enough to put in a
// rejection reason and a log line, else a placeholder: the string comes
// from the network.
func safeCode(code string) string {
	if code == "" || len(code) > 64 {
		return "unrecognised code"
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return "unrecognised code"
		}
	}
	return code
}

// CARequestErrorCode is the outcome of one revocation request
// (PkiConnectorFEService CARequestErrorCode).
type CARequestErrorCode int

// CARequestErrorCode values; codes from 4100 up are retryable.
const (
	None                         CARequestErrorCode = 0
	NonRetryableServiceException CARequestErrorCode = 4000
	DataSerializationError       CARequestErrorCode = 4001
	ParameterDataInvalidError    CARequestErrorCode = 4002
	CryptographyError            CARequestErrorCode = 4003
	CertificateNotFoundError     CARequestErrorCode = 4004
	ConflictError                CARequestErrorCode = 4005
	NotSupportedError            CARequestErrorCode = 4006
	PayloadTooLargeError         CARequestErrorCode = 4007
	RetryableServiceException    CARequestErrorCode = 4100
	ServiceUnavailableException  CARequestErrorCode = 4101
	ServiceTooBusyException      CARequestErrorCode = 4102
	AuthenticationException      CARequestErrorCode = 4103
)

var caCodeNames = map[CARequestErrorCode]string{
	None:                         "None",
	NonRetryableServiceException: "NonRetryableServiceException",
	DataSerializationError:       "DataSerializationError",
	ParameterDataInvalidError:    "ParameterDataInvalidError",
	CryptographyError:            "CryptographyError",
	CertificateNotFoundError:     "CertificateNotFoundError",
	ConflictError:                "ConflictError",
	NotSupportedError:            "NotSupportedError",
	PayloadTooLargeError:         "PayloadTooLargeError",
	RetryableServiceException:    "RetryableServiceException",
	ServiceUnavailableException:  "ServiceUnavailableException",
	ServiceTooBusyException:      "ServiceTooBusyException",
	AuthenticationException:      "AuthenticationException",
}

// String is the code's enum name, as the C# library sends it; an
// undefined value prints as its number.
func (c CARequestErrorCode) String() string {
	if n, ok := caCodeNames[c]; ok {
		return n
	}
	return strconv.Itoa(int(c))
}

// Valid reports whether c is a defined code.
func (c CARequestErrorCode) Valid() bool {
	_, ok := caCodeNames[c]
	return ok
}

// Retryable reports whether Intune may succeed if the CA tries again.
func (c CARequestErrorCode) Retryable() bool { return c >= 4100 && c <= 4103 }
