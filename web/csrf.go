package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
)

// csrfCookie holds the random value a form's token is bound to.
const csrfCookie = "taskware_csrf"

// csrfToken returns the token of r's CSRF cookie, setting a new cookie if
// r has none that is well formed.
func (h *handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && validCookie(c.Value) {
		return h.tokenOf(c.Value)
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode})
	return h.tokenOf(v)
}

func validCookie(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// tokenOf is the form token of a cookie's value: its HMAC under the
// handler's key, so that only this handler makes tokens, and only a page
// that read the cookie knows one.
func (h *handler) tokenOf(cookie string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("taskware web csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkPost refuses a POST that is not this handler's own: read-only,
// another site's (by Sec-Fetch-Site, Origin or Referer), or without the
// token of its cookie.
func (h *handler) checkPost(r *http.Request) error {
	if h.cfg.readOnly {
		return &httpError{http.StatusForbidden, "This view is read-only: actions are turned off."}
	}
	if err := h.cop.Check(r); err != nil {
		return &httpError{http.StatusForbidden, "Refused a request from another site."}
	}
	for _, hdr := range []string{"Origin", "Referer"} {
		v := r.Header.Get(hdr)
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host != r.Host {
			return &httpError{http.StatusForbidden, "Refused a request from another site (" + hdr + ")."}
		}
		break // Origin, when there is one, is the better witness
	}
	c, err := r.Cookie(csrfCookie)
	token := r.PostFormValue("csrf")
	if err != nil || !validCookie(c.Value) || token == "" ||
		!hmac.Equal([]byte(token), []byte(h.tokenOf(c.Value))) {
		return &httpError{http.StatusForbidden, "Missing or bad form token: reload the page and try again."}
	}
	return nil
}
