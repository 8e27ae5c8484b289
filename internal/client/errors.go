package client

import (
	"errors"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// APIError is the engine's error body. It is embedded in Error under this
// name because a field named Error would hide the Error method.
type APIError = api.Error

// Error is a non-2xx answer of the engine: its status and its error body
// (Code, Message, Field, Missing are promoted).
type Error struct {
	StatusCode int
	APIError
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	if e.Code != "" {
		return e.Code
	}
	return http.StatusText(e.StatusCode)
}

// AsError returns the engine's error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// IsNotFound reports whether err is the engine saying the object does not
// exist (its not_found code, not merely a 404 from anything on the way).
func IsNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == api.CodeNotFound
}

// IsConflict reports whether err is the engine refusing a duplicate (a
// project name, an env var key+target).
func IsConflict(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == api.CodeConflict
}

// IsMissingFiles reports whether err asks for file uploads, and which.
func IsMissingFiles(err error) ([]string, bool) {
	e, ok := AsError(err)
	if !ok || e.Code != api.CodeMissingFiles {
		return nil, false
	}
	return e.Missing, true
}
