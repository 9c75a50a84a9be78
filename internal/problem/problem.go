// Package problem writes RFC 9457 application/problem+json bodies. The portal and both gateway
// listeners use it, so every error a partner meets has one shape.
package problem

import (
	"encoding/json"
	"net/http"

	"github.com/onramp-dev/onramp"
)

// ContentType is the media type of every error body.
const ContentType = "application/problem+json"

// TypeBase prefixes every problem type; types are stable identifiers, documented in the README.
const TypeBase = "https://onramp.dev/problems/"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Errors lists every located problem when there is more than one thing to fix.
	Errors []onramp.ErrorDetail `json:"errors,omitempty"`
}

// New returns a problem of the given type slug (e.g. "missing-credential").
func New(status int, slug, title, detail string) Problem {
	return Problem{Type: TypeBase + slug, Title: title, Status: status, Detail: detail}
}

var byCode = map[string]struct {
	status int
	slug   string
	title  string
}{
	onramp.EINVALID:      {http.StatusBadRequest, "invalid-request", "Invalid request"},
	onramp.EUNAUTHORIZED: {http.StatusUnauthorized, "unauthorized", "Authentication required"},
	onramp.EFORBIDDEN:    {http.StatusForbidden, "forbidden", "Not allowed"},
	onramp.ENOTFOUND:     {http.StatusNotFound, "not-found", "Not found"},
	onramp.ECONFLICT:     {http.StatusConflict, "conflict", "Conflict"},
	onramp.ERATELIMITED:  {http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	onramp.EUNAVAILABLE:  {http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable"},
	onramp.EINTERNAL:     {http.StatusInternalServerError, "internal", "Internal error"},
}

// FromError maps an error's onramp code to a problem; the detail is the error's caller-safe
// message, so internal errors never leak their text.
func FromError(err error) Problem {
	m, ok := byCode[onramp.ErrorCode(err)]
	if !ok {
		m = byCode[onramp.EINTERNAL]
	}
	detail := onramp.ErrorMessage(err)
	if m.status == http.StatusInternalServerError {
		detail = "Something went wrong on our side. Retry in a moment; if it persists, contact the provider and quote the request id."
	}
	p := New(m.status, m.slug, m.title, detail)
	if m.status < http.StatusInternalServerError {
		p.Errors = onramp.ErrorDetails(err)
	}
	return p
}

// Write sends p with its status and content type.
func Write(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // details quote `<key>` placeholders; the type is never HTML
	_ = enc.Encode(p)
}
