package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onramp-dev/onramp/stack"
)

// MustBrowser returns a headless Chromium context (Debian's chromium, installed by .ci/run) with
// the flags that work on these machines, closed when the test ends.
func MustBrowser(tb testing.TB) context.Context {
	tb.Helper()
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		tb.Fatal("no Chromium found: install Debian's chromium (`apt-get install chromium`, done by .ci/run) or set CHROMIUM_PATH")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	tb.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// AdminSignIn signs the browser in as the provider's admin with the admin token, landing on the
// partners page.
func AdminSignIn(tb testing.TB, st *stack.Stack) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(st.PortalURL+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), MustAdminToken(tb, st)),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#invite-form")),
	)
}

// MustSeeNotice waits until the page that a form submission led to has loaded and its notice
// contains want (a notice of the page before does not count).
func MustSeeNotice(tb testing.TB, ctx context.Context, want string) {
	tb.Helper()
	waitFor(tb, 15*time.Second, "the notice "+strconv.Quote(want), func() bool {
		notice, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" && document.querySelector(".notice") ? document.querySelector(".notice").innerText : ""`))
		return err == nil && strings.Contains(notice, want)
	})
}

// MustRun runs one browser action that returns a value.
func MustRun[T any](tb testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.Fatalf("browser: %v", err)
	}
	return v
}

// maybeScreenshot keeps a PNG of the page when ONRAMP_SCREENSHOTS names a directory, so a person
// can look at what the test saw.
func maybeScreenshot(tb testing.TB, ctx context.Context, name string) {
	dir := os.Getenv("ONRAMP_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

func TestE2EFoundationBrowserHomePage(t *testing.T) {
	st := MustSharedStack(t)
	ctx := MustBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(st.PortalURL+"/"), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		t.Fatalf("loading the home page: %v", err)
	}
	title := MustRun(t, ctx, chromedp.Title())
	brand := MustRun(t, ctx, chromedp.Text(chromedp.CSS(".brand")))
	heading := MustRun(t, ctx, chromedp.Text(chromedp.CSS("main h1")))
	maybeScreenshot(t, ctx, "home")
	if !strings.Contains(title, "Onramp") || !strings.Contains(brand, "Onramp") || !strings.Contains(heading, "Onramp") {
		t.Errorf("title %q, brand %q, heading %q: want Onramp's name in each", title, brand, heading)
	}

	// The dev mailbox is one click away and renders.
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/dev/mail"]`)),
		chromedp.WaitVisible(chromedp.CSS("form.filter")),
	)
	if err != nil {
		t.Fatalf("opening the dev mailbox: %v", err)
	}
	mailHeading := MustRun(t, ctx, chromedp.Text(chromedp.CSS("main h1")))
	maybeScreenshot(t, ctx, "devmail")
	if mailHeading != "Dev mailbox" {
		t.Errorf("dev mailbox heading = %q", mailHeading)
	}
}
