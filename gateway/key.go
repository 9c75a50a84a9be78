package gateway

import "strings"

// maxKeyLength bounds what is accepted as a key or an access token before any lookup.
const maxKeyLength = 4096

// KeyFrom returns the API key of a request's headers: `Authorization: Bearer <key>` or
// `X-API-Key: <key>`. ok is false when neither carries a well-formed key; sent says whether
// the caller tried at all (to tell a missing credential from a malformed one).
func KeyFrom(authorization, apiKey string) (key string, sent, ok bool) {
	if apiKey != "" {
		return clean(apiKey)
	}
	if authorization == "" {
		return "", false, false
	}
	scheme, rest, found := strings.Cut(strings.TrimSpace(authorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", true, false
	}
	return clean(rest)
}

func clean(v string) (string, bool, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxKeyLength {
		return "", true, false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			return "", true, false
		}
	}
	return v, true, true
}
