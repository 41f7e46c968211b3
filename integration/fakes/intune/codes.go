package intune

// Result codes of ScepRequestValidationFEService: the complete enum of the
// reference library (INTEGRATIONS.md §3.5).
const (
	CodeSuccess                                = "Success"
	CodeUnknown                                = "Unknown"
	CodeCertificateRequestDecodingFailed       = "CertificateRequestDecodingFailed"
	CodeChallengePasswordMissing               = "ChallengePasswordMissing"
	CodeChallengeDeserializationError          = "ChallengeDeserializationError"
	CodeChallengeDecryptionError               = "ChallengeDecryptionError"
	CodeChallengeDecodingError                 = "ChallengeDecodingError"
	CodeChallengeInvalidTimestamp              = "ChallengeInvalidTimestamp"
	CodeChallengeExpired                       = "ChallengeExpired"
	CodeSubjectNameMissing                     = "SubjectNameMissing"
	CodeSubjectNameMismatch                    = "SubjectNameMismatch"
	CodeSubjectAltNameMissing                  = "SubjectAltNameMissing"
	CodeSubjectAltNameMismatch                 = "SubjectAltNameMismatch"
	CodeKeyUsageMismatch                       = "KeyUsageMismatch"
	CodeKeyLengthMismatch                      = "KeyLengthMismatch"
	CodeEnhancedKeyUsageMissing                = "EnhancedKeyUsageMissing"
	CodeEnhancedKeyUsageMismatch               = "EnhancedKeyUsageMismatch"
	CodeAadKeyIdentifierListMissing            = "AadKeyIdentifierListMissing"
	CodeRegisteredKeyMismatch                  = "RegisteredKeyMismatch"
	CodeSigningCertThumbprintMismatch          = "SigningCertThumbprintMismatch"
	CodeScepProfileNoLongerTargetedToTheClient = "ScepProfileNoLongerTargetedToTheClient"
	CodeSignatureValidationFailed              = "SignatureValidationFailed"
	CodeBadCertificateRequestIDInChallenge     = "BadCertificateRequestIdInChallenge"
	CodeBadDeviceIDInChallenge                 = "BadDeviceIdInChallenge"
	CodeBadUserIDInChallenge                   = "BadUserIdInChallenge"
)

// Codes lists every result code, Success first.
var Codes = []string{
	CodeSuccess, CodeUnknown, CodeCertificateRequestDecodingFailed,
	CodeChallengePasswordMissing, CodeChallengeDeserializationError,
	CodeChallengeDecryptionError, CodeChallengeDecodingError,
	CodeChallengeInvalidTimestamp, CodeChallengeExpired,
	CodeSubjectNameMissing, CodeSubjectNameMismatch,
	CodeSubjectAltNameMissing, CodeSubjectAltNameMismatch,
	CodeKeyUsageMismatch, CodeKeyLengthMismatch,
	CodeEnhancedKeyUsageMissing, CodeEnhancedKeyUsageMismatch,
	CodeAadKeyIdentifierListMissing, CodeRegisteredKeyMismatch,
	CodeSigningCertThumbprintMismatch,
	CodeScepProfileNoLongerTargetedToTheClient,
	CodeSignatureValidationFailed, CodeBadCertificateRequestIDInChallenge,
	CodeBadDeviceIDInChallenge, CodeBadUserIDInChallenge,
}

// CARequestErrorCode values of PkiConnectorFEService upload results
// (INTEGRATIONS.md §4), by name; a client may send the name or the number
// as a string.
var CARequestErrorCodes = map[string]int{
	"None":                         0,
	"NonRetryableServiceException": 4000,
	"DataSerializationError":       4001,
	"ParameterDataInvalidError":    4002,
	"CryptographyError":            4003,
	"CertificateNotFoundError":     4004,
	"ConflictError":                4005,
	"NotSupportedError":            4006,
	"PayloadTooLargeError":         4007,
	"RetryableServiceException":    4100,
	"ServiceUnavailableException":  4101,
	"ServiceTooBusyException":      4102,
	"AuthenticationException":      4103,
}
