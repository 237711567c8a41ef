// Package apperr is the application's one error type. Every package returns
// *Error (or wraps one) for failures a caller can act on; anything else is an
// internal error. The HTTP layer maps Code to a status in exactly one table.
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an application error.
type Code string

// The codes. Keep in sync with the status table in internal/httpapi.
const (
	Invalid          Code = "invalid"           // the request is malformed or fails validation
	Unauthorized     Code = "unauthorized"      // no or bad credentials
	Forbidden        Code = "forbidden"         // credentials lack the scope
	NotFound         Code = "not_found"         // no such resource for this tenant
	Conflict         Code = "conflict"          // a uniqueness or concurrency conflict
	Unprocessable    Code = "unprocessable"     // well-formed but cannot be applied
	TooLarge         Code = "too_large"         // the request body is too large
	UnsupportedMedia Code = "unsupported_media" // the request body is not JSON
	Unavailable      Code = "unavailable"       // a dependency (DynamoDB, SQS) is down, throttling or too slow: retry later
	Internal         Code = "internal"          // a bug or an outage: never shown in detail
)

// FieldError points at one offending input with a JSON Pointer (RFC 6901)
// such as "/addresses/0/country", or a query parameter such as "?limit".
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Error is an application error.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Extra carries machine-readable members of the problem document,
	// e.g. {"existing_id": "01H…"} on a duplicate.
	Extra map[string]any
	// RetryAfter, when positive, is the Retry-After (seconds) of the answer:
	// the same request may succeed then.
	RetryAfter int
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Path, e.Fields[0].Message)
}

// New returns an error with a code and a message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Busy returns a Conflict that a retry of the same request may not meet: a
// write that lost to concurrent ones too many times, a request still running.
// Its answer carries Retry-After.
func Busy(format string, args ...any) *Error {
	return &Error{Code: Conflict, Message: fmt.Sprintf(format, args...), RetryAfter: 1}
}

// Field returns a validation error about one input.
func Field(path, format string, args ...any) *Error {
	return &Error{Code: Invalid, Message: "The request is invalid.", Fields: []FieldError{{Path: path, Message: fmt.Sprintf(format, args...)}}}
}

// With returns a copy of e carrying an extra problem member.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extra = make(map[string]any, len(e.Extra)+1)
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[key] = value
	return &c
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// CodeOf returns the code of err: Internal for anything that is not an *Error.
func CodeOf(err error) Code {
	if e := As(err); e != nil {
		return e.Code
	}
	return Internal
}

// PointerToken escapes s as one reference token of a JSON Pointer (RFC 6901).
func PointerToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// Fields collects validation errors and turns them into one *Error.
type Fields []FieldError

// Add records a problem at path.
func (f *Fields) Add(path, format string, args ...any) {
	*f = append(*f, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Merge appends the field errors of err (an *Error with Fields) under prefix,
// and returns false when err is some other error.
func (f *Fields) Merge(prefix string, err error) bool {
	e := As(err)
	if e == nil || e.Code != Invalid || len(e.Fields) == 0 {
		return false
	}
	for _, fe := range e.Fields {
		*f = append(*f, FieldError{Path: prefix + fe.Path, Message: fe.Message})
	}
	return true
}

// Err returns nil when nothing was recorded, or one Invalid error.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "The request is invalid.", Fields: f}
}
