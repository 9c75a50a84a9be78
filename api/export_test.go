package api

// Routes lists "METHOD path" for every route s serves, in Gin's syntax, so the tests can hold
// them to api/openapi.yaml.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}
