package gateway

import (
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/routers"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/specs"
)

// ExampleUpstream is the stand-in production API of `onramp dev`: it answers every operation of
// the published specs with schema-true data, like the sandbox, so the demo products' production
// calls succeed. It relies on the X-Onramp-Product header the production gateway sets.
func ExampleUpstream(catalog onramp.CatalogStore) http.Handler {
	var mu sync.Mutex
	cache := map[string]routers.Router{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		product, version, ok := strings.Cut(r.Header.Get("X-Onramp-Product"), "/")
		if !ok {
			http.Error(w, "example upstream: call it through the production gateway", http.StatusBadRequest)
			return
		}
		id := onramp.VersionID(product, version)
		mu.Lock()
		router, found := cache[id]
		mu.Unlock()
		if !found {
			v, err := catalog.FindVersion(r.Context(), product, version)
			if err != nil {
				http.Error(w, "example upstream: unknown product version", http.StatusNotFound)
				return
			}
			doc, err := specs.Load([]byte(v.Spec))
			if err == nil {
				router, err = specs.Router(doc)
			}
			if err != nil {
				http.Error(w, "example upstream: "+err.Error(), http.StatusInternalServerError)
				return
			}
			mu.Lock()
			cache[id] = router
			mu.Unlock()
		}
		route, _, err := router.FindRoute(r)
		if err != nil {
			http.Error(w, "example upstream: no such operation", http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		status, ctype, out, err := sandboxResponse(route.Operation, seedOf([]byte("upstream"), []byte(r.Method), []byte(r.URL.Path), []byte(r.URL.RawQuery), body))
		if err != nil {
			http.Error(w, "example upstream: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set(exampleHeader, "onramp-dev")
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write(out)
	})
}

// exampleHeader marks an answer of the example upstream, which the gateway passes back.
const exampleHeader = "X-Example-Upstream"

// withExampleHeader is an operation's documented response headers plus the example upstream's marker.
func withExampleHeader(documented map[string]bool) map[string]bool {
	out := make(map[string]bool, len(documented)+1)
	for k := range documented {
		out[k] = true
	}
	out[exampleHeader] = true
	return out
}
