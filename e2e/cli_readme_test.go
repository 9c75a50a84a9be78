package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every `make …` and `onramp …` command README.md shows goes as far as it can without starting
// anything: make must know the target (`make -n`), and each onramp command line the target would
// run, like each one the README shows itself, must pass `onramp <command> --check` (help: exit 0).
// A documented command cannot break unnoticed, as `make dev-fresh` once did on a bare --fresh.
func TestE2EFoundationCLIReadmeCommands(t *testing.T) {
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(string(readme))
	var makes, onramps int
	for _, c := range cmds {
		if strings.HasPrefix(c.text, "make") {
			makes++
		} else {
			onramps++
		}
	}
	if makes == 0 || onramps == 0 {
		t.Fatalf("README.md shows %d make and %d onramp commands, want some of each", makes, onramps)
	}
	bin := MustBuildOnramp(t)
	for _, c := range cmds {
		t.Run(c.text, func(t *testing.T) {
			if c.err != nil {
				t.Fatalf("README.md shows %q, which this test cannot check: %v", c.text, c.err)
			}
			if c.words[0] != "make" {
				MustCheckOnramp(t, bin, c.words[1:])
				return
			}
			for _, args := range MustMakeDryRun(t, root, c.words[1:]) {
				MustCheckOnramp(t, bin, args)
			}
		})
	}
}

// readmeCommand is one command shown in README.md, as written and split into words.
type readmeCommand struct {
	text  string
	words []string
	err   error
}

var (
	readmeCommandRE = regexp.MustCompile(`^(make(\s|$)|(\./bin/)?onramp\s+\S)`)
	codeSpanRE      = regexp.MustCompile("`([^`]+)`")
)

// readmeCommands returns the make and onramp commands of md's code blocks and code spans, once each.
func readmeCommands(md string) []readmeCommand {
	var found []readmeCommand
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if !readmeCommandRE.MatchString(s) {
			return
		}
		c := readmeCommand{text: s}
		key := s
		if c.words, c.err = shellWords(s); c.err == nil {
			key = strings.Join(c.words, " ")
			c.text = key
		}
		if !seen[key] {
			seen[key] = true
			found = append(found, c)
		}
	}
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(strings.TrimSpace(line), "```"):
			fenced = !fenced
		case fenced:
			add(line)
		default:
			for _, m := range codeSpanRE.FindAllStringSubmatch(line, -1) {
				add(m[1])
			}
		}
	}
	return found
}

// shellWords splits a command line into words as sh would, for the quotes and comments README
// commands use; it refuses expansions and operators, which only a shell could reproduce.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
scan:
	for _, r := range s {
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case quote == '"' && r == '"':
			quote = 0
		case quote == '"' && strings.ContainsRune("$`\\", r):
			return nil, fmt.Errorf("%q inside double quotes needs a shell", r)
		case quote == '"':
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case r == '#' && !inWord:
			break scan
		case strings.ContainsRune("$`\\|&;<>()", r):
			return nil, fmt.Errorf("%q needs a shell", r)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, w.String())
	}
	if len(words) == 0 {
		return nil, errors.New("no command")
	}
	return words, nil
}

// MustBuildOnramp builds cmd/onramp from the source under test into a temporary directory, so a
// stale bin/onramp cannot hide a change. It uses the module cache only (GOPROXY=off): the modules
// are there, since this test's own package needs them, and a test reaches nothing off the machine.
func MustBuildOnramp(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "onramp")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/onramp")
	cmd.Dir = repoRoot(tb)
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/onramp: %v\n%s", err, out)
	}
	return bin
}

// MustMakeDryRun runs `make -n <args>` in root, which prints the target's recipes without running
// them (only recursive $(MAKE) lines run, themselves with -n), and returns the arguments of each
// ./bin/onramp command among them. An ARGS=… given to make must reach one of those commands.
func MustMakeDryRun(tb testing.TB, root string, args []string) [][]string {
	tb.Helper()
	cmd := exec.Command("make", append([]string{"-n"}, args...)...)
	cmd.Dir = root
	cmd.Env = cliEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("make -n %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	var onramps [][]string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) == 0 || f[0] != "./bin/onramp" {
			continue
		}
		words, err := shellWords(line)
		if err != nil {
			tb.Fatalf("make -n %s runs %q, which this test cannot check: %v", strings.Join(args, " "), line, err)
		}
		onramps = append(onramps, words[1:])
	}
	for _, a := range args {
		value, ok := strings.CutPrefix(a, "ARGS=")
		if !ok {
			continue
		}
		want, err := shellWords(value)
		if err != nil {
			tb.Fatalf("ARGS=%q: %v", value, err)
		}
		if !slices.ContainsFunc(onramps, func(got []string) bool { return containsRun(got, want) }) {
			tb.Errorf("make -n %s: no onramp command got ARGS %q; it ran:\n%s", strings.Join(args, " "), want, stdout.String())
		}
	}
	return onramps
}

// MustCheckOnramp runs bin with args (a command and its flags) as far as it goes without starting
// anything: with --check right after the command, or as is for help.
func MustCheckOnramp(tb testing.TB, bin string, args []string) {
	tb.Helper()
	if len(args) == 0 {
		tb.Fatal("onramp without a command")
	}
	argv, want := append([]string{args[0], "--check"}, args[1:]...), "nothing was started (--check)"
	if args[0] == "help" {
		argv, want = args, "Usage: onramp"
	}
	// --check returns at once; the timeout stops an onramp that started after all.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Dir = tb.TempDir()
	cmd.Env = cliEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), want) {
		tb.Errorf("onramp %s: %v, stdout lacks %q\nstdout: %s\nstderr: %s", strings.Join(argv, " "), err, want, stdout.String(), stderr.String())
	}
}

// cliEnv is a bare environment, so a developer's MONGODB_URI or ONRAMP_FRESH cannot change what
// the README commands do here.
func cliEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
}

// containsRun reports whether want occurs in got as consecutive elements.
func containsRun(got, want []string) bool {
	for i := 0; i+len(want) <= len(got); i++ {
		if slices.Equal(got[i:i+len(want)], want) {
			return true
		}
	}
	return false
}

// The extraction the test above relies on: code blocks and spans, quotes, comments, duplicates,
// and commands it cannot reproduce reported instead of skipped.
func TestCLIReadmeCommandExtraction(t *testing.T) {
	md := "Run `make dev ARGS=\"--data '/tmp/a b'\"` or `onramp` (the package), then `./bin/onramp help dev`.\n" +
		"```sh\nmake dev     # starts it\ncurl http://127.0.0.1:4000\nonramp portal --check\n```\n" +
		"Not code: make test. Again: `make dev`, and `make dev ARGS=\"$HOME\"`.\n"
	var got []string
	for _, c := range readmeCommands(md) {
		if c.err != nil {
			got = append(got, "error: "+c.text)
			continue
		}
		got = append(got, strings.Join(c.words, "|"))
	}
	want := []string{"make|dev|ARGS=--data '/tmp/a b'", "./bin/onramp|help|dev", "make|dev", "onramp|portal|--check", `error: make dev ARGS="$HOME"`}
	if !slices.Equal(got, want) {
		t.Errorf("readmeCommands:\n got %q\nwant %q", got, want)
	}
}
