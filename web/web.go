// Package web holds the portal's server-rendered templates and static assets, embedded so the
// binary is the whole front end (no build step).
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Static is the static asset tree (style.css, ...), served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// Templates parses every page; each page defines "content" and is rendered through "layout".
// It returns one template set per page so pages cannot overwrite each other's blocks.
func Templates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"timefmt": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			case *time.Time:
				if v != nil {
					return v.UTC().Format("2006-01-02 15:04:05 UTC")
				}
			case string:
				return v
			}
			return ""
		},
		"datefmt": func(t any) string {
			switch v := t.(type) {
			case *time.Time:
				if v != nil {
					return v.UTC().Format("2006-01-02")
				}
			case time.Time:
				return v.UTC().Format("2006-01-02")
			case *string:
				if v != nil {
					return *v
				}
			case string:
				return v
			}
			return ""
		},
		"list": func(v ...string) []string { return v },
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := p[len("templates/"):]
		if name == "layout.html" || name == "partials.html" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", p)
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}
