package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

// A flash shows once, to the person it was left for, before it expires; a captured cookie
// replayed into another partner's browser, an edited one or a late one shows nothing.
func TestFlashIsForItsPersonOnceAndBriefly(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := &Server{cfg: Config{AdminToken: "admin-token-for-flash-tests", Now: func() time.Time { return now }}}
	context := func(identity string, cookie *http.Cookie) *gin.Context {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/team", nil)
		if cookie != nil {
			c.Request.AddCookie(cookie)
		}
		c.Set(principalKey, onramp.Actor{IdentityID: identity})
		return c
	}
	leave := func(identity string) *http.Cookie {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest("POST", "/team", nil)
		c.Set(principalKey, onramp.Actor{IdentityID: identity})
		s.redirectNotice(c, "/team", "Invitation sent.")
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == flashCookie {
				return ck
			}
		}
		t.Fatal("no flash cookie was set")
		return nil
	}
	ck := leave("id-alice")
	if got := s.takeFlash(context("id-alice", ck)).Notice; got != "Invitation sent." {
		t.Fatalf("alice's own flash = %q", got)
	}
	if got := s.takeFlash(context("id-mallory-victim", ck)).Notice; got != "" {
		t.Errorf("alice's flash showed for another partner: %q", got)
	}
	edited := *ck
	edited.Value = "eyJuIjoiWW91ciBhY2NvdW50IGlzIGxvY2tlZCJ9" + ck.Value[len(ck.Value)-44:]
	if got := s.takeFlash(context("id-alice", &edited)).Notice; got != "" {
		t.Errorf("an edited flash showed: %q", got)
	}
	now = now.Add(flashLifetime + time.Second)
	if got := s.takeFlash(context("id-alice", ck)).Notice; got != "" {
		t.Errorf("a flash showed after it expired: %q", got)
	}
	now = now.Add(-2 * time.Second) // inside the lifetime again: the same cookie is still good
	if got := s.takeFlash(context("id-alice", ck)).Notice; got != "Invitation sent." {
		t.Errorf("inside its lifetime = %q", got)
	}
}
