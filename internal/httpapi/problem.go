package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/regulars/regulars/internal/apperr"
)

// statusOf is the one table from application error codes to HTTP statuses.
var statusOf = map[apperr.Code]int{
	apperr.Invalid:          http.StatusBadRequest,
	apperr.Unauthorized:     http.StatusUnauthorized,
	apperr.Forbidden:        http.StatusForbidden,
	apperr.NotFound:         http.StatusNotFound,
	apperr.Conflict:         http.StatusConflict,
	apperr.Unprocessable:    http.StatusUnprocessableEntity,
	apperr.TooLarge:         http.StatusRequestEntityTooLarge,
	apperr.UnsupportedMedia: http.StatusUnsupportedMediaType,
	apperr.Unavailable:      http.StatusServiceUnavailable,
	apperr.Internal:         http.StatusInternalServerError,
}

// problem is an RFC 9457 problem details document.
type problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Errors []apperr.FieldError `json:"errors,omitempty"`
	Extra  map[string]any      `json:",embed"`
}

// problemOf turns any error into a response. Internal errors are logged with
// their cause and answered with a generic message.
func problemOf(ctx context.Context, log *slog.Logger, err error) response {
	e := apperr.As(err)
	if e == nil && unavailable(err) {
		log.WarnContext(ctx, "unavailable", "err", err)
		e = &apperr.Error{Code: apperr.Unavailable, Message: "The service is unavailable or overloaded; retry later.", RetryAfter: 1}
	}
	if e == nil || e.Code == apperr.Internal {
		log.ErrorContext(ctx, "internal error", "err", err)
		e = apperr.New(apperr.Internal, "An internal error occurred; it has been logged. Retry later.")
	}
	status := statusOf[e.Code]
	p := problem{Type: "urn:regulars:problem:" + string(e.Code), Title: http.StatusText(status), Status: status,
		Detail: e.Message, Errors: e.Fields, Extra: e.Extra}
	r := jsonResponse(status, p)
	r.headers["Content-Type"] = "application/problem+json"
	if status == http.StatusUnauthorized {
		r.headers["WWW-Authenticate"] = `Bearer realm="regulars"`
	}
	if e.RetryAfter > 0 {
		r.headers["Retry-After"] = strconv.Itoa(e.RetryAfter)
	}
	return r
}

// unavailable reports whether err is a dependency's failure that a later
// retry may not meet: the request ran out of its time (the invocation's
// deadline, see Handle), or the AWS SDK gave up on an error it deems
// transient (connection refused or reset, throttling, a 5xx, its retry
// quota spent).
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
