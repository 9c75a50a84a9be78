// Package onramp holds Onramp's domain: its types, their validation, the service interfaces that
// adapters implement, and the error codes every boundary translates exactly once.
package onramp

import (
	"errors"
	"fmt"
)

// Error codes. Each boundary maps them once: the API to HTTP status and problem+json, activities
// to retryable or non-retryable Temporal errors, the gateway to its 4xx/5xx answers.
const (
	EINVALID      = "invalid"      // the caller sent something wrong; the message says what to fix
	EUNAUTHORIZED = "unauthorized" // no or unknown credential
	EFORBIDDEN    = "forbidden"    // known caller, action not allowed
	ENOTFOUND     = "not_found"    // does not exist, or is not visible to the caller
	ECONFLICT     = "conflict"     // the current state does not allow the action
	ERATELIMITED  = "rate_limited" // too many attempts; retry later
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry later
	EINTERNAL     = "internal"     // a bug or an unexpected failure; logged with context
)

// Error is an error with a code and a message that is safe to show to the caller.
type Error struct {
	Code    string
	Message string
	Details []ErrorDetail // every problem found, each with where it is (e.g. an invalid spec's)
}

// ErrorDetail is one located problem, safe to show to the caller.
type ErrorDetail struct {
	Location string `json:"location"` // e.g. paths./payments.post.requestBody
	Message  string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("onramp error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message safe to show to callers.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error,
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of the first *Error in err's chain, or a generic
// message for any other error so internal details never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorDetails returns the located problems of the first *Error in err's chain.
func ErrorDetails(err error) []ErrorDetail {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}

// Owned returns v when it belongs to orgID (owner says whose it is). A missing object and another
// organisation's get the same ENOTFOUND, word for word, so nobody learns that another tenant's
// id exists.
func Owned[T any](v T, err error, owner func(T) string, orgID, kind, id string) (T, error) {
	var zero T
	if ErrorCode(err) == ENOTFOUND || (err == nil && owner(v) != orgID) {
		return zero, Errorf(ENOTFOUND, "no %s %q in your organisation", kind, id)
	}
	if err != nil {
		return zero, err
	}
	return v, nil
}
