package specs

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/onramp-dev/onramp"
)

// Bundle limits, checked on the bytes actually unpacked (never on what an archive claims), so a
// zip bomb or an archive of countless tiny files is refused before it costs memory.
const (
	MaxBundleFiles = 500      // entries, directories included
	MaxBundleBytes = 24 << 20 // unpacked, all files together
)

// rootNames are the file names a bundle's root document goes by, in order of preference.
var rootNames = []string{"openapi.yaml", "openapi.yml", "openapi.json", "swagger.yaml", "swagger.yml", "swagger.json"}

// IsBundle reports whether data is a zip or a gzip-compressed (tar.gz) archive rather than a
// YAML or JSON document.
func IsBundle(data []byte) bool {
	return bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")) || bytes.HasPrefix(data, []byte{0x1f, 0x8b})
}

// ParseUpload parses what an admin uploaded: a bundle (see ParseBundle) or one document (Parse).
func ParseUpload(ctx context.Context, data []byte) (*Spec, error) {
	if IsBundle(data) {
		return ParseBundle(ctx, data)
	}
	return Parse(ctx, data)
}

// ParseBundle reads a multi-file description from a zip or tar.gz archive and merges it into one
// document, parsed like Parse. Its relative $refs resolve inside the archive only. The root is
// the openapi.yaml (or .yml, .json, or swagger.*) at the top of the archive (or of its single
// top-level directory), otherwise its only file with an `openapi` or `swagger` key. EINVALID, with
// the entry or the $ref's location, for an unsafe entry name (absolute, `..`), a link, more than
// MaxBundleFiles entries or MaxBundleBytes unpacked, no or several possible roots, and a $ref to
// a URL, an absolute path or a path outside the archive.
func ParseBundle(ctx context.Context, archive []byte) (*Spec, error) {
	contents, err := unpack(archive)
	if err != nil {
		return nil, err
	}
	root, err := chooseRoot(contents)
	if err != nil {
		return nil, err
	}
	return parse(ctx, mapSource(contents), root, contents[root])
}

// ParseFS reads the document root of fsys (e.g. a catalog directory) like ParseBundle: its
// relative $refs resolve inside fsys only.
func ParseFS(ctx context.Context, fsys fs.FS, root string) (*Spec, error) {
	data, err := fs.ReadFile(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", root, err)
	}
	return parse(ctx, func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) }, root, data)
}

func mapSource(contents map[string][]byte) source {
	return func(name string) ([]byte, error) {
		if b, ok := contents[name]; ok {
			return b, nil
		}
		return nil, fs.ErrNotExist
	}
}

func bundleError(format string, args ...any) error {
	return onramp.Errorf(onramp.EINVALID, "the bundle is refused, nothing was published: "+format, args...)
}

// unpacked collects a bundle's files, enforcing the limits as it goes.
type unpacked struct {
	files   map[string][]byte
	entries int
	bytes   int64
}

func unpack(archive []byte) (map[string][]byte, error) {
	u := &unpacked{files: map[string][]byte{}}
	var err error
	if bytes.HasPrefix(archive, []byte{0x1f, 0x8b}) {
		err = u.tarGz(archive)
	} else {
		err = u.zip(archive)
	}
	if err != nil {
		return nil, err
	}
	if len(u.files) == 0 {
		return nil, bundleError("it holds no files")
	}
	return u.files, nil
}

func (u *unpacked) zip(archive []byte) error {
	r, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure names are refused below, by name
		return bundleError("it is not a readable zip archive: %v", err)
	}
	if len(r.File) > MaxBundleFiles {
		return bundleError("it has %d entries; a bundle may have at most %d", len(r.File), MaxBundleFiles)
	}
	for _, f := range r.File {
		mode := f.Mode()
		if !mode.IsRegular() && !mode.IsDir() {
			return bundleError("entry %q is not a plain file (a link or a device); bundles hold plain files only", f.Name)
		}
		if err := u.add(f.Name, mode.IsDir(), func() (io.ReadCloser, error) { return f.Open() }); err != nil {
			return err
		}
	}
	return nil
}

func (u *unpacked) tarGz(archive []byte) error {
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return bundleError("it is not a readable gzip archive: %v", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) { // insecure names are refused below, by name
			return bundleError("it is not a readable tar.gz archive: %v", err)
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader: // git archive's comment entry: counted, or a stream of them would never end
			if u.entries++; u.entries > MaxBundleFiles {
				return bundleError("it has more than %d entries", MaxBundleFiles)
			}
			continue
		case tar.TypeReg, tar.TypeDir:
		default:
			return bundleError("entry %q is not a plain file (a link or a device); bundles hold plain files only", h.Name)
		}
		open := func() (io.ReadCloser, error) { return io.NopCloser(tr), nil }
		if err := u.add(h.Name, h.Typeflag == tar.TypeDir, open); err != nil {
			return err
		}
	}
}

// add keeps one entry, refusing unsafe names and counting it against the limits. A skipped
// entry (Finder metadata) is read too: a tar reader would decompress it anyway to skip it.
func (u *unpacked) add(raw string, dir bool, open func() (io.ReadCloser, error)) error {
	if u.entries++; u.entries > MaxBundleFiles {
		return bundleError("it has more than %d entries", MaxBundleFiles)
	}
	name, skip, err := entryName(raw)
	if err != nil || dir {
		return err
	}
	if _, dup := u.files[name]; dup && !skip {
		return bundleError("it holds %s twice", name)
	}
	r, err := open()
	if err != nil {
		return bundleError("entry %q cannot be read: %v", raw, err)
	}
	defer r.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, MaxBundleBytes-u.bytes+1))
	if u.bytes += n; u.bytes > MaxBundleBytes {
		return bundleError("it unpacks to more than %d MiB", MaxBundleBytes>>20)
	}
	if err != nil {
		return bundleError("entry %q cannot be read: %v", raw, err)
	}
	if !skip {
		u.files[name] = buf.Bytes()
	}
	return nil
}

// entryName cleans an archive entry's name, refusing one that could land outside the bundle
// (zip slip) and skipping the archive's own root and macOS Finder metadata.
func entryName(raw string) (name string, skip bool, err error) {
	name = strings.TrimSuffix(raw, "/")
	for strings.HasPrefix(name, "./") {
		name = strings.TrimPrefix(name, "./")
	}
	if name == "" || name == "." {
		return "", true, nil
	}
	if path.IsAbs(name) || strings.Contains(name, `\`) || hasDriveLetter(name) || !fs.ValidPath(name) {
		return "", false, bundleError("entry %q is not a relative path inside the bundle (an absolute path, a .. element or a backslash)", raw)
	}
	if strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(path.Base(name), "._") {
		return "", true, nil
	}
	return name, false, nil
}

// chooseRoot picks the bundle's root document, or says why it cannot.
func chooseRoot(files map[string][]byte) (string, error) {
	top := topDir(files)
	var named []string
	for _, n := range rootNames {
		if _, ok := files[top+n]; ok {
			named = append(named, top+n)
		}
	}
	switch len(named) {
	case 1:
		return named[0], nil
	case 0:
	default:
		return "", bundleError("it has several root documents (%s); keep one", strings.Join(named, ", "))
	}
	var docs []string
	for name, data := range files {
		if isDocument(name, data) {
			docs = append(docs, name)
		}
	}
	slices.Sort(docs)
	switch len(docs) {
	case 1:
		return docs[0], nil
	case 0:
		return "", bundleError("it holds no OpenAPI document (a YAML or JSON file with an `openapi` or `swagger` key at the top)")
	}
	return "", bundleError("several files could be the root document (%s); name the root openapi.yaml at the top of the bundle", strings.Join(docs, ", "))
}

// topDir is "dir/" when every file is under one top-level directory (a zipped folder), else "".
func topDir(files map[string][]byte) string {
	top := ""
	for name := range files {
		dir, _, nested := strings.Cut(name, "/")
		if !nested || top != "" && dir != top {
			return ""
		}
		top = dir
	}
	if top == "" {
		return ""
	}
	return top + "/"
}

// isDocument reports whether a bundle file is YAML or JSON with an openapi or swagger key.
func isDocument(name string, data []byte) bool {
	switch path.Ext(name) {
	case ".yaml", ".yml", ".json":
	default:
		return false
	}
	var head struct {
		Swagger any `yaml:"swagger"`
		OpenAPI any `yaml:"openapi"`
	}
	return yaml.Unmarshal(data, &head) == nil && (head.OpenAPI != nil || head.Swagger != nil)
}
