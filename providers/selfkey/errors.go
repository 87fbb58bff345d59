package selfkey

import (
	"errors"
	"net/http"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/document"
)

// Error is a failure the wallet is told about: an HTTP status and the
// {"code","message"} body of the SelfKey documents. Its message never holds
// a token, a signature or personal data. Errors wrap an Error with context;
// HTTPStatus finds it with errors.As.
type Error struct {
	status  int
	code    string
	message string
	base    error // a providers sentinel, for errors.Is across adapters
}

func (e *Error) Error() string { return "selfkey: " + e.code + ": " + e.message }

// Unwrap lets errors.Is match the shared providers sentinels
// (ErrBadSignature, ErrExpired, ErrMalformed).
func (e *Error) Unwrap() error { return e.base }

// Status is the HTTP status the wallet receives.
func (e *Error) Status() int { return e.status }

// Code is the machine-readable code of the body.
func (e *Error) Code() string { return e.code }

// Message is the human-readable message of the body.
func (e *Error) Message() string { return e.message }

// The errors the protocol engine returns. Statuses follow the seed (400
// malformed, 401 bad or missing token or signature, 404 unknown); codes
// follow the public SelfKey documents.
var (
	ErrTokenMissing       = &Error{http.StatusUnauthorized, "token_missing", "Missing authorization header", providers.ErrBadSignature}
	ErrTokenMalformed     = &Error{http.StatusBadRequest, "token_invalid", "Malformed authorization header", providers.ErrMalformed}
	ErrTokenInvalid       = &Error{http.StatusUnauthorized, "token_invalid", "Invalid authentication token", providers.ErrBadSignature}
	ErrTokenExpired       = &Error{http.StatusUnauthorized, "token_invalid", "Authentication token expired", providers.ErrExpired}
	ErrChallengeUsed      = &Error{http.StatusUnauthorized, "token_invalid", "Challenge already answered", providers.ErrBadSignature}
	ErrSignatureMissing   = &Error{http.StatusUnauthorized, "signature_missing", "Missing signature", providers.ErrBadSignature}
	ErrSignatureMalformed = &Error{http.StatusBadRequest, "signature_invalid", "Malformed signature", providers.ErrMalformed}
	ErrSignatureInvalid   = &Error{http.StatusUnauthorized, "signature_invalid", "Invalid signature", providers.ErrBadSignature}
	ErrInvalidSubject     = &Error{http.StatusBadRequest, "invalid_did", "Invalid DID or public key", providers.ErrMalformed}
	// ErrDIDResolverNotConfigured: a did:selfkey needs an Ethereum RPC
	// (KYCDESK_SELFKEY_RPC_URL) to find its controller address.
	ErrDIDResolverNotConfigured = &Error{http.StatusBadRequest, "invalid_did", "did:selfkey is not supported by this server", nil}
	ErrDIDNotFound              = &Error{http.StatusUnauthorized, "signature_invalid", "DID has no controller", providers.ErrBadSignature}
	ErrForbidden                = &Error{http.StatusForbidden, "forbidden", "Origin not allowed", nil}
	ErrBadRequest               = &Error{http.StatusBadRequest, "bad_request", "Malformed request", providers.ErrMalformed}
	ErrRequestTooLarge          = &Error{http.StatusBadRequest, "bad_request", "Request body too large", providers.ErrMalformed}
	ErrNoAttributes             = &Error{http.StatusBadRequest, "no_attributes", "No attributes provided", providers.ErrMalformed}
	ErrInvalidAttributes        = &Error{http.StatusBadRequest, "invalid_attributes", "Validation errors occurred", providers.ErrMalformed}
	ErrNoFile                   = &Error{http.StatusBadRequest, "no_file", "No file uploaded", providers.ErrMalformed}
	ErrFileInvalid              = &Error{http.StatusBadRequest, "file_invalid", "Should be a single file", providers.ErrMalformed}
	ErrFileMislabelled          = &Error{http.StatusBadRequest, "file_invalid", "File content does not match its declared type", providers.ErrMalformed}
	ErrUserNotFound             = &Error{http.StatusNotFound, "user_does_not_exist", "User with provided key does not exist", nil}
	ErrNotFound                 = &Error{http.StatusNotFound, "not_found", "Not found", nil}
	// ErrResolver is a did:selfkey lookup that failed on our side (RPC
	// down): the wallet may retry.
	ErrResolver = &Error{http.StatusServiceUnavailable, "resolver_unavailable", "DID resolution failed, try again later", nil}
)

// ErrorResponse is the JSON error body the wallet reads.
type ErrorResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// HTTPStatus maps any error from this package (or from providers/document)
// to the HTTP status, code and message to send. Anything unknown is a 500
// "internal_error" whose cause stays in the logs.
func HTTPStatus(err error) (status int, code, message string) {
	var e *Error
	switch {
	case err == nil:
		return http.StatusOK, "", ""
	case errors.As(err, &e):
		return e.status, e.code, e.message
	case errors.Is(err, document.ErrTooLarge):
		return http.StatusBadRequest, "file_invalid", "File is too large"
	case errors.Is(err, document.ErrUnsupportedType):
		return http.StatusBadRequest, "file_invalid", "Only JPEG, PNG and PDF files are accepted"
	case errors.Is(err, document.ErrDimensions):
		return http.StatusBadRequest, "file_invalid", "Image dimensions are out of bounds"
	case errors.Is(err, document.ErrMalformed):
		return http.StatusBadRequest, "file_invalid", "File is damaged"
	}
	return http.StatusInternalServerError, "internal_error", "Internal error"
}

// ErrorBody is HTTPStatus as a status and a ready-to-encode body.
func ErrorBody(err error) (int, ErrorResponse) {
	status, code, msg := HTTPStatus(err)
	return status, ErrorResponse{Code: code, Message: msg}
}
