package gateway

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// The trust boundary between partners and upstreams: what the gateway forwards and what it
// passes back. Upstreams trust the X-Onramp-* identity headers, so no partner may set or remove
// them, and partners see only the response headers an API is expected to send.

// IdentityHeaderPrefix starts every header the gateway tells upstreams who is calling with.
const IdentityHeaderPrefix = "X-Onramp-"

// methodOverrides would make an upstream run another operation than the one the gateway decided on.
var methodOverrides = map[string]bool{"x-http-method-override": true, "x-http-method": true, "x-method-override": true}

// credentialHeaders carry the partner's credential, which stays at the gateway.
var credentialHeaders = map[string]bool{"authorization": true, "x-api-key": true, "proxy-authorization": true}

// routingHeaders make common upstream stacks (IIS, Symfony, Spring, nginx real-ip) route by, or
// trust a client address from, a header instead of the request the gateway decided on. The
// gateway sets X-Forwarded-For/Host/Proto itself; the rest never reach an upstream.
var routingHeaders = map[string]bool{"x-original-url": true, "x-rewrite-url": true, "x-forwarded-prefix": true,
	"x-forwarded-port": true, "x-forwarded-server": true, "x-real-ip": true, "true-client-ip": true,
	"x-client-ip": true, "x-cluster-client-ip": true, "forwarded": true}

// passedResponseHeaders are the upstream response headers partners get, besides those the
// operation documents: content description, caching, redirects and retry hints.
var passedResponseHeaders = map[string]bool{}

func init() {
	for _, h := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
		"Content-Disposition", "Content-Range", "Accept-Ranges", "Cache-Control", "Expires", "Last-Modified",
		"Etag", "Vary", "Location", "Retry-After", "Link", "Date", "Allow", "Idempotency-Key"} {
		passedResponseHeaders[textproto.CanonicalMIMEHeaderKey(h)] = true
	}
}

// normalizedHeader is a header name as many stacks see it: lower case, underscores and dots as
// dashes (CGI-style servers map X_Onramp_Org, X.Onramp.Org and X-Onramp-Org to one variable).
func normalizedHeader(name string) string {
	return headerSeparators.Replace(strings.ToLower(name))
}

// headerSeparators is built once: a Replacer is safe for concurrent use, and building one per
// header was a measurable share of a call.
var headerSeparators = strings.NewReplacer("_", "-", ".", "-")

// isIdentityHeader reports whether name is, or would be read as, one of the gateway's headers
// (what normalizedHeader(name) starting "x-onramp-" says, without building the string: it runs
// for every header of every answer).
func isIdentityHeader(name string) bool {
	const prefix = "x-onramp-"
	if len(name) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		if normalByte(name[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// normalByte is what normalizedHeader makes of an ASCII byte: lower case, '_' and '.' as '-'.
func normalByte(c byte) byte {
	switch {
	case c == '_' || c == '.':
		return '-'
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
}

// declaresHeader reports whether the operation takes a header parameter of that name.
func declaresHeader(op *openapi3.Operation, name string) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && strings.EqualFold(p.Value.Name, name) {
			return true
		}
	}
	return false
}

// scrubRequest removes what a partner must not pass to an upstream: its credential, anything
// that reads as a gateway identity header, routing and client-address headers, and method
// overrides the operation does not declare.
func scrubRequest(h http.Header, op *openapi3.Operation) {
	var buf [64]byte
	for name := range h {
		if isIdentityHeader(name) {
			delete(h, name)
			continue
		}
		n := normalizedHeaderBytes(buf[:0], name) // map lookups of string(n) allocate nothing
		if credentialHeaders[string(n)] || routingHeaders[string(n)] || (methodOverrides[string(n)] && !declaresHeader(op, name)) {
			delete(h, name)
		}
	}
}

// normalizedHeaderBytes appends normalizedHeader(name) to dst, without building a string for the
// ASCII names of every request; other names take normalizedHeader (Unicode lower-casing maps
// some letters to ASCII ones, the Kelvin sign to k).
func normalizedHeaderBytes(dst []byte, name string) []byte {
	for i := range len(name) {
		if name[i] >= 0x80 {
			return append(dst, normalizedHeader(name)...)
		}
	}
	for i := range len(name) {
		dst = append(dst, normalByte(name[i]))
	}
	return dst
}

// documentedResponseHeaders are the headers the operation's responses declare, canonicalised.
func documentedResponseHeaders(op *openapi3.Operation) map[string]bool {
	out := map[string]bool{}
	if op.Responses == nil {
		return out
	}
	for _, r := range op.Responses.Map() {
		if r.Value == nil {
			continue
		}
		for name := range r.Value.Headers {
			out[textproto.CanonicalMIMEHeaderKey(name)] = true
		}
	}
	return out
}

// scrubResponse keeps the upstream headers partners may see: the allow-list and what the
// operation documents. Identity headers never go back, documented or not.
func scrubResponse(h http.Header, documented map[string]bool) {
	for name := range h {
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if isIdentityHeader(name) || (!passedResponseHeaders[canon] && !documented[canon]) {
			delete(h, name)
		}
	}
}

// upgradeRequested reports whether the request asks to switch protocols (WebSocket, h2c): a
// tunnel would bypass routing, policy, quota and usage for everything sent through it.
func upgradeRequested(h http.Header) bool {
	return h.Get("Upgrade") != "" || h.Get("Http2-Settings") != ""
}

// unsafePath reports why an escaped request path cannot be routed safely, or "" when it can: a
// dot segment, a backslash or an encoded slash (raw or percent-encoded) would let a path
// parameter reach another resource at the upstream than the operation the gateway decided on.
// Servlet containers drop ";params" before resolving dots, so "..;x" counts as "..".
func unsafePath(escaped string) string {
	if strings.IndexByte(escaped, '%') < 0 {
		return unsafePlainPath(escaped)
	}
	return unsafeSegments(escaped)
}

// unsafeSegments is unsafePath decoding each segment.
func unsafeSegments(escaped string) string {
	for rest, more := escaped, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		decoded, err := url.PathUnescape(seg)
		bare, _, _ := strings.Cut(decoded, ";")
		switch {
		case err != nil:
			return "it has an invalid percent-encoding"
		case bare == "." || bare == "..":
			return "it has a dot segment (. or ..)"
		case strings.ContainsAny(decoded, `\/`):
			return "it has a backslash or an encoded slash"
		case strings.ContainsFunc(decoded, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return "it has a control character"
		}
	}
	return ""
}

// unsafePlainPath is unsafePath of a path without percent-encoding, where each segment is its
// own decoding: one pass over the bytes (a control character is a byte below 0x20 or 0x7f, and
// a slash only ever separates segments), each segment judged in unsafePath's order.
func unsafePlainPath(p string) string {
	start, params := 0, -1 // the segment's first byte, and its first ';' if any
	backslash, control := false, false
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			switch c := p[i]; {
			case c == '\\':
				backslash = true
			case c < 0x20 || c == 0x7f:
				control = true
			case c == ';' && params < 0:
				params = i
			}
			continue
		}
		bare := p[start:i]
		if params >= 0 {
			bare = p[start:params]
		}
		switch {
		case bare == "." || bare == "..":
			return "it has a dot segment (. or ..)"
		case backslash:
			return "it has a backslash or an encoded slash"
		case control:
			return "it has a control character"
		}
		start, params, backslash, control = i+1, -1, false, false
	}
	return ""
}

// forwarded is one outbound call: what the proxy's Rewrite adds to the request, and the
// wrappers of its answer. It is the outbound request's context too, so that one allocation
// carries the call to Rewrite and ModifyResponse.
type forwarded struct {
	context.Context
	target     url.URL // scheme, host and escaped path at the upstream
	org, cred  string
	product    string
	op         *openapi3.Operation
	documented map[string]bool
	writer     informationalWriter
	body       trailerlessBody
	values     [6]string // of the headers setForwardingHeaders sets
}

type forwardedKey struct{}

// Value implements context.Context.
func (f *forwarded) Value(key any) any {
	if _, ok := key.(forwardedKey); ok {
		return f
	}
	return f.Context.Value(key)
}

// proxy is the production reverse proxy. Identity headers are set in Rewrite, after the
// proxy has removed hop-by-hop headers, so a partner's `Connection: X-Onramp-Org` cannot strip
// them. Trailers cross in neither direction: a request trailer would arrive after the headers
// the upstream trusts, and a response trailer after the headers scrubResponse checked.
type proxy struct{ rp *httputil.ReverseProxy }

func newProxy(transport http.RoundTripper, onError func(http.ResponseWriter, *http.Request, error)) *proxy {
	return &proxy{rp: &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			f := pr.In.Context().Value(forwardedKey{}).(*forwarded)
			pr.Out.URL = &f.target
			pr.Out.Host = f.target.Host
			pr.Out.Trailer = nil
			scrubRequest(pr.Out.Header, f.op)
			setForwardingHeaders(pr, f)
		},
		ModifyResponse: func(resp *http.Response) error {
			f := resp.Request.Context().Value(forwardedKey{}).(*forwarded)
			f.writer.responded = true
			scrubResponse(resp.Header, f.documented)
			clear(resp.Trailer)
			f.body = trailerlessBody{ReadCloser: resp.Body, trailer: resp}
			resp.Body = &f.body
			return nil
		},
		Transport:    transport,
		ErrorHandler: onError,
		BufferPool:   copyBuffers{}, // a 32 KiB buffer per answer otherwise
	}}
}

// serve forwards out, whose context is f, answering w.
func (p *proxy) serve(w http.ResponseWriter, out *http.Request, f *forwarded) {
	f.writer = informationalWriter{ResponseWriter: w, documented: f.documented}
	p.rp.ServeHTTP(&f.writer, out)
}

// setForwardingHeaders sets what pr.SetXForwarded sets (X-Forwarded-For, -Host and -Proto) and
// the identity headers, their values in one array: seven header writes per call would otherwise
// allocate seven slices. Each value is a slice of capacity one, so an append copies it.
func setForwardingHeaders(pr *httputil.ProxyRequest, f *forwarded) {
	h, v := pr.Out.Header, f.values[:]
	set := func(i int, key, value string) {
		v[i] = value
		h[key] = v[i : i+1 : i+1]
	}
	if clientIP, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 {
			clientIP = strings.Join(prior, ", ") + ", " + clientIP
		}
		set(0, "X-Forwarded-For", clientIP)
	} else {
		delete(h, "X-Forwarded-For")
	}
	set(1, "X-Forwarded-Host", pr.In.Host)
	if pr.In.TLS == nil {
		set(2, "X-Forwarded-Proto", "http")
	} else {
		set(2, "X-Forwarded-Proto", "https")
	}
	set(3, IdentityHeaderPrefix+"Org", f.org)
	set(4, IdentityHeaderPrefix+"Credential", f.cred)
	set(5, IdentityHeaderPrefix+"Product", f.product)
}

// trailerlessBody drops the response's trailers once the transport has read them, at EOF, so
// the proxy has none to copy to the partner.
type trailerlessBody struct {
	io.ReadCloser
	trailer *http.Response
}

func (b *trailerlessBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		clear(b.trailer.Trailer)
	}
	return n, err
}

// informationalWriter scrubs the headers of 1xx responses (103 Early Hints) the proxy relays.
// The proxy copies a 1xx's headers into the response's header map, writes it and clears the
// map, which would also lose the headers the gateway set before proxying (request id, rate
// limits); they are put back the next time the proxy asks for the map. Only a 1xx (or a
// failure) asks for the map before the final response arrives, so only then are they copied.
type informationalWriter struct {
	http.ResponseWriter
	documented map[string]bool
	ours       http.Header // what the gateway set before proxying, once the map is asked for early
	responded  bool        // the final response arrived (ModifyResponse ran)
	final      bool
	restore    bool
}

func (w *informationalWriter) Header() http.Header {
	h := w.ResponseWriter.Header()
	if w.ours == nil && !w.responded {
		w.ours = h.Clone()
	}
	if w.restore {
		w.restore = false
		for k, v := range w.ours.Clone() {
			h[k] = v
		}
	}
	return h
}

func (w *informationalWriter) WriteHeader(code int) {
	if w.final || code >= 200 || code == http.StatusSwitchingProtocols {
		w.final = true
		w.ResponseWriter.WriteHeader(code)
		return
	}
	scrubResponse(w.Header(), w.documented)
	w.ResponseWriter.WriteHeader(code)
	w.restore = true
}

func (w *informationalWriter) Write(p []byte) (int, error) {
	w.final = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets the proxy flush streamed responses through http.ResponseController.
func (w *informationalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// copyBuffers lends the proxy the buffers it copies answers through.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (copyBuffers) Get() []byte  { return *copyBufferPool.Get().(*[]byte) }
func (copyBuffers) Put(b []byte) { copyBufferPool.Put(&b) }
