package specs_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/specs"
)

// MustZip archives files (path → content) in path order.
func MustZip(tb testing.TB, files map[string]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := w.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := f.Write([]byte(files[name])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// MustTarGz archives files (path → content) in path order; a content starting with "->" is a
// symbolic link to the rest.
func MustTarGz(tb testing.TB, files map[string]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	w := tar.NewWriter(gz)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}
		if target, link := strings.CutPrefix(files[name], "->"); link {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, target, 0
		}
		if err := w.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := w.Write([]byte(files[name])); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// petsBundle is a description split the way real ones are: a path item, schemas and a response
// in files of their own, referring to each other by relative paths (up a directory too).
func petsBundle(prefix string) map[string]string {
	return map[string]string{
		prefix + "openapi.yaml": `openapi: 3.0.3
info: {title: Pets, version: 1.0.0, description: Pets split over files.}
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      responses:
        '200':
          description: The pets.
          content:
            application/json:
              schema:
                type: array
                items: {$ref: 'schemas/pet.yaml'}
        default: {$ref: 'responses.yaml#/Error'}
  /pets/{petId}:
    $ref: 'paths/pet.yaml'
`,
		prefix + "schemas/pet.yaml": `type: object
required: [id, name]
properties:
  id: {type: integer, example: 7}
  name: {type: string}
  owner: {$ref: 'owner.yaml'}
`,
		prefix + "schemas/owner.yaml": "type: object\nproperties:\n  name: {type: string}\n",
		prefix + "schemas/error.yaml": "type: object\nproperties:\n  message: {type: string}\n",
		prefix + "responses.yaml": `Error:
  description: Something went wrong.
  content:
    application/json:
      schema: {$ref: 'schemas/error.yaml'}
`,
		prefix + "paths/pet.yaml": `get:
  operationId: showPet
  summary: Show a pet
  parameters: [{name: petId, in: path, required: true, schema: {type: integer}}]
  responses:
    '200':
      description: The pet.
      content:
        application/json:
          schema: {$ref: '../schemas/pet.yaml'}
`,
		prefix + "README.md": "Not part of the description.\n",
	}
}

func MustParseBundle(tb testing.TB, archive []byte) *specs.Spec {
	tb.Helper()
	s, err := specs.ParseBundle(context.Background(), archive)
	if err != nil {
		tb.Fatalf("ParseBundle: %v %+v", err, onramp.ErrorDetails(err))
	}
	return s
}

func TestBundleWithRelativeRefsIsMergedIntoOneDocument(t *testing.T) {
	for name, archive := range map[string][]byte{
		"zip":                  MustZip(t, petsBundle("")),
		"tar.gz":               MustTarGz(t, petsBundle("./")),
		"zipped folder":        MustZip(t, petsBundle("pets-api/")),
		"zip with Finder junk": MustZip(t, mergeFiles(petsBundle(""), map[string]string{"__MACOSX/._openapi.yaml": "\x00\x05", "._openapi.yaml": "\x00"})),
	} {
		t.Run(name, func(t *testing.T) {
			s := MustParseBundle(t, archive)
			prefix := ""
			if name == "zipped folder" {
				prefix = "pets-api/"
			}
			want := []string{"openapi.yaml", "paths/pet.yaml", "responses.yaml", "schemas/error.yaml", "schemas/owner.yaml", "schemas/pet.yaml"}
			for i := range want {
				want[i] = prefix + want[i]
			}
			if got := slices.Sorted(slices.Values(s.Files)); !slices.Equal(got, want) || s.Files[0] != prefix+"openapi.yaml" {
				t.Errorf("files = %v, want the root first and every referenced file (not the README): %v", s.Files, want)
			}
			if strings.Contains(string(s.JSON), `.yaml`) {
				t.Errorf("the stored document still refers to files:\n%s", s.JSON)
			}
			stored, err := specs.Load(s.JSON)
			if err != nil {
				t.Fatalf("the stored document does not load on its own: %v", err)
			}
			var ids []string
			for _, op := range specs.Operations(stored, "pets") {
				ids = append(ids, op.ID)
			}
			if strings.Join(ids, ",") != "listPets,showPet" {
				t.Errorf("operations = %v", ids)
			}
			pet := stored.Paths.Find("/pets/{petId}").Get.Responses.Value("200").Value.Content["application/json"].Schema.Value
			if pet == nil || pet.Properties["owner"].Value.Properties["name"] == nil {
				t.Errorf("the pet schema was not resolved through schemas/owner.yaml: %+v", pet)
			}
		})
	}
}

func mergeFiles(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// A $ref that leaves the bundle — up past its root, to an absolute path, to a URL, to a file it
// does not hold — is refused with the file and place it is written.
func TestBundleRefusesReferencesOutsideItself(t *testing.T) {
	for name, tt := range map[string]struct{ ref, message string }{
		"up past the root": {"../../outside.yaml", "leaves the bundle"},
		"absolute path":    {"/etc/passwd", "absolute path"},
		"URL":              {"https://schemas.example.com/owner.yaml", "points to a URL"},
		"host-relative":    {"//schemas.example.com/owner.yaml", "points to a URL"},
		"missing file":     {"nobody.yaml", "not in the bundle"},
	} {
		t.Run(name, func(t *testing.T) {
			files := petsBundle("")
			files["schemas/pet.yaml"] = strings.Replace(files["schemas/pet.yaml"], "'owner.yaml'", "'"+tt.ref+"'", 1)
			_, err := specs.ParseBundle(context.Background(), MustZip(t, files))
			details := onramp.ErrorDetails(err)
			if onramp.ErrorCode(err) != onramp.EINVALID || len(details) != 1 {
				t.Fatalf("err = %v %+v, want EINVALID with one problem", err, details)
			}
			if details[0].Location != "schemas/pet.yaml:properties.owner.$ref" || !strings.Contains(details[0].Message, tt.message) || !strings.Contains(details[0].Message, tt.ref) {
				t.Errorf("problem = %+v, want it at schemas/pet.yaml:properties.owner.$ref saying %q", details[0], tt.message)
			}
		})
	}
}

// Entry names that would unpack outside the bundle (zip slip) and links are refused, naming the entry.
func TestBundleRefusesUnsafeEntries(t *testing.T) {
	for _, entry := range []string{"../evil.yaml", "/abs/evil.yaml", "a/../../evil.yaml", `a\..\evil.yaml`, "C:/evil.yaml"} {
		for kind, archive := range map[string][]byte{
			"zip":    MustZip(t, mergeFiles(petsBundle(""), map[string]string{entry: "openapi: 3.0.3\n"})),
			"tar.gz": MustTarGz(t, mergeFiles(petsBundle(""), map[string]string{entry: "openapi: 3.0.3\n"})),
		} {
			_, err := specs.ParseBundle(context.Background(), archive)
			if onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(onramp.ErrorMessage(err), strconv.Quote(entry)) {
				t.Errorf("%s with %q: %v, want EINVALID naming the entry", kind, entry, err)
			}
		}
	}
	_, err := specs.ParseBundle(context.Background(), MustTarGz(t, mergeFiles(petsBundle(""), map[string]string{"schemas/owner.yaml": "->/etc/passwd"})))
	if onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(onramp.ErrorMessage(err), "not a plain file") {
		t.Errorf("a symbolic link: %v, want EINVALID", err)
	}
}

// The limits hold on what is unpacked: up to MaxBundleBytes and MaxBundleFiles is accepted, one
// byte or one entry more is refused, however small the archive (a zip bomb).
func TestBundleLimits(t *testing.T) {
	docBytes := 0
	for _, c := range petsBundle("") {
		docBytes += len(c)
	}
	filler := func(n int) map[string]string {
		return mergeFiles(petsBundle(""), map[string]string{"zeros.bin": strings.Repeat("\x00", n)})
	}
	if s := MustParseBundle(t, MustZip(t, filler(specs.MaxBundleBytes-docBytes))); len(s.Files) != 6 {
		t.Errorf("exactly MaxBundleBytes: files %v", s.Files)
	}
	for kind, archive := range map[string][]byte{"zip": MustZip(t, filler(specs.MaxBundleBytes-docBytes+1)), "tar.gz": MustTarGz(t, filler(specs.MaxBundleBytes-docBytes+1))} {
		if len(archive) > specs.MaxBundleBytes/100 {
			t.Fatalf("%s: the bomb is %d bytes, want a small archive", kind, len(archive))
		}
		_, err := specs.ParseBundle(context.Background(), archive)
		if onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(onramp.ErrorMessage(err), "unpacks to more than") {
			t.Errorf("%s, one byte over: %v, want EINVALID", kind, err)
		}
	}
	skipped := mergeFiles(petsBundle(""), map[string]string{"__MACOSX/._zeros": strings.Repeat("\x00", specs.MaxBundleBytes)})
	if _, err := specs.ParseBundle(context.Background(), MustTarGz(t, skipped)); onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(onramp.ErrorMessage(err), "unpacks to more than") {
		t.Errorf("a skipped entry over the limit: %v, want EINVALID (it is decompressed to be skipped)", err)
	}
	if _, err := specs.ParseBundle(context.Background(), mustGlobalHeaders(t, specs.MaxBundleFiles+1)); onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(onramp.ErrorMessage(err), strconv.Itoa(specs.MaxBundleFiles)) {
		t.Errorf("a stream of pax global headers: %v, want EINVALID naming the entry limit", err)
	}
	many := func(n int) map[string]string {
		files := petsBundle("")
		for i := len(files); i < n; i++ {
			files["extra/"+strconv.Itoa(i)+".txt"] = "x"
		}
		return files
	}
	MustParseBundle(t, MustZip(t, many(specs.MaxBundleFiles)))
	MustParseBundle(t, MustTarGz(t, many(specs.MaxBundleFiles)))
	for kind, archive := range map[string][]byte{"zip": MustZip(t, many(specs.MaxBundleFiles+1)), "tar.gz": MustTarGz(t, many(specs.MaxBundleFiles+1))} {
		_, err := specs.ParseBundle(context.Background(), archive)
		if onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(onramp.ErrorMessage(err), strconv.Itoa(specs.MaxBundleFiles)) {
			t.Errorf("%s, one entry over: %v, want EINVALID naming the limit", kind, err)
		}
	}
}

// mustGlobalHeaders is a tar.gz of n pax global headers (git archive writes one) and nothing else.
func mustGlobalHeaders(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	w := tar.NewWriter(gz)
	for range n {
		if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "x"}}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestBundleRoot(t *testing.T) {
	doc := "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: a\n      responses: {'200': {description: ok}}\n"
	for name, tt := range map[string]struct {
		files map[string]string
		root  string // "" when refused
		say   string
	}{
		"the only document":          {map[string]string{"api/v1.yaml": doc, "notes.yaml": "a: 1\n"}, "api/v1.yaml", ""},
		"openapi.yaml beats others":  {map[string]string{"openapi.yaml": doc, "old.yaml": doc}, "openapi.yaml", ""},
		"two root names":             {map[string]string{"openapi.yaml": doc, "openapi.json": doc}, "", "several root documents (openapi.yaml, openapi.json)"},
		"two documents, no root":     {map[string]string{"a.yaml": doc, "b.yaml": doc}, "", "several files could be the root document (a.yaml, b.yaml)"},
		"no document":                {map[string]string{"notes.yaml": "a: 1\n"}, "", "no OpenAPI document"},
		"nothing":                    {map[string]string{}, "", "holds no files"},
		"Swagger 2.0 with file refs": {map[string]string{"swagger.yaml": "swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {description: ok, schema: {$ref: 'pet.yaml'}}}\n", "pet.yaml": "type: object\n"}, "", "Swagger 2.0"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := specs.ParseBundle(context.Background(), MustZip(t, tt.files))
			if tt.root != "" {
				if err != nil || s.Files[0] != tt.root {
					t.Fatalf("ParseBundle = %v, %v; want root %s", s, err, tt.root)
				}
				return
			}
			if onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(onramp.ErrorMessage(err), tt.say) {
				t.Errorf("err = %v, want EINVALID saying %q", err, tt.say)
			}
		})
	}
}

// A bundle of one file publishes exactly like the file uploaded on its own.
func TestBundleOfOneFileIsTheDocument(t *testing.T) {
	single := MustParse(t, MustRead(t, "oai-petstore.yaml"))
	bundled := MustParseBundle(t, MustTarGz(t, map[string]string{"openapi.yaml": string(MustRead(t, "oai-petstore.yaml"))}))
	if bundled.SHA256() != single.SHA256() || !slices.Equal(bundled.Files, []string{"openapi.yaml"}) {
		t.Errorf("bundled sha %s files %v, want sha %s and the one file", bundled.SHA256(), bundled.Files, single.SHA256())
	}
	if !specs.IsBundle(MustZip(t, map[string]string{})) || specs.IsBundle(MustRead(t, "oai-petstore.yaml")) {
		t.Error("IsBundle mistakes an archive for a document or the other way round")
	}
}
