package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Flash messages: the notice or error a form's redirect shows on the next page. They travel in a
// short-lived cookie the portal signs, never in the URL, so nobody can put text on the portal's
// pages with a crafted link. A flash is signed for the signed-in person it was left for and
// expires with its cookie, so a captured one cannot be replayed into someone else's browser.

const flashCookie = "onramp_flash"

// flash is what the next page shows once.
type flash struct {
	Notice  string `json:"n,omitempty"`
	Error   string `json:"e,omitempty"`
	Expires int64  `json:"x"` // unix seconds; the cookie's own Max-Age is the browser's to honour
}

// flashLifetime is how long a redirect's flash waits for its page.
const flashLifetime = 60 * time.Second

// flashOwner is who the flash is for: the provider on admin pages, else the partner's identity.
func (s *Server) flashOwner(c *gin.Context) string {
	if s.adminToken(c) {
		return "provider"
	}
	return "identity:" + actor(c).IdentityID
}

// flashKey signs flashes; every portal node derives the same one from the admin token.
func (s *Server) flashKey() []byte {
	sum := sha256.Sum256([]byte("onramp flash\x00" + s.cfg.AdminToken))
	return sum[:]
}

func (s *Server) signFlash(c *gin.Context, b []byte) string {
	m := hmac.New(sha256.New, s.flashKey())
	m.Write([]byte(s.flashOwner(c) + "\x00"))
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// redirectNotice redirects to `to` (a path of the portal) with a notice for the next page.
func (s *Server) redirectNotice(c *gin.Context, to, notice string) {
	s.redirectFlash(c, to, flash{Notice: notice})
}

// redirectError redirects to `to` with an error for the next page.
func (s *Server) redirectError(c *gin.Context, to, msg string) {
	s.redirectFlash(c, to, flash{Error: msg})
}

func (s *Server) redirectFlash(c *gin.Context, to string, f flash) {
	f.Expires = s.cfg.Now().Add(flashLifetime).Unix()
	b, _ := json.Marshal(f)
	c.SetSameSite(http.SameSiteLaxMode)
	c.SetCookie(flashCookie, base64.RawURLEncoding.EncodeToString(b)+"."+s.signFlash(c, b), int(flashLifetime.Seconds()), "/", "", strings.HasPrefix(s.cfg.PortalURL, "https://"), true)
	c.Redirect(http.StatusSeeOther, to)
}

// takeFlash returns the flash a redirect left for this person (nothing when there is none, it
// expired or its signature is wrong) and clears it, so it shows once.
func (s *Server) takeFlash(c *gin.Context) flash {
	raw, err := c.Cookie(flashCookie)
	if err != nil || raw == "" {
		return flash{}
	}
	c.SetCookie(flashCookie, "", -1, "/", "", strings.HasPrefix(s.cfg.PortalURL, "https://"), true)
	payload, sig, ok := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if !ok || err != nil || !hmac.Equal([]byte(sig), []byte(s.signFlash(c, b))) {
		return flash{}
	}
	var f flash
	if json.Unmarshal(b, &f) != nil || s.cfg.Now().Unix() > f.Expires {
		return flash{}
	}
	return f
}
