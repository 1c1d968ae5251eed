package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// noticeTTL is how long the notice of an action is shown: its redirect,
// and a reload or two, not a link kept for later.
const noticeTTL = time.Minute

// signNotice returns the ?notice= value that tells what an action did:
// what (the notice's fields, see notice) and when it expires, signed with
// the handler's key, so that only this handler's actions make one, and
// nobody can craft a link whose banner claims what never happened.
func (h *handler) signNotice(what url.Values) string {
	v := url.Values{}
	for k, vs := range what {
		v[k] = vs
	}
	v.Set("exp", strconv.FormatInt(h.now().Add(noticeTTL).Unix(), 10))
	payload := base64.RawURLEncoding.EncodeToString([]byte(v.Encode()))
	return payload + "." + h.noticeMAC(payload)
}

// noticeMAC is the signature of a notice's payload, under the handler's
// key, apart from the CSRF tokens' by its label.
func (h *handler) noticeMAC(payload string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("taskware web notice\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// openNotice returns the fields of a signed notice value, or nil if it is
// not one of this handler's, or has expired.
func (h *handler) openNotice(value string) url.Values {
	payload, mac, ok := strings.Cut(value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(h.noticeMAC(payload))) {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil
	}
	exp, err := strconv.ParseInt(v.Get("exp"), 10, 64)
	if err != nil || !h.now().Before(time.Unix(exp, 0)) {
		return nil
	}
	return v
}

// noticeOf is the banner of a page's query: the sentence of its signed
// notice, "" if it has none that is valid.
func (h *handler) noticeOf(q url.Values) string {
	v := h.openNotice(q.Get("notice"))
	if v == nil {
		return ""
	}
	return notice(v)
}
