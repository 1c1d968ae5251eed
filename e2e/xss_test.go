package e2e

import (
	"fmt"
	"strings"
)

// xss is the payload seeded into a task's name, arguments and error: the
// web view must show it as text.
const xss = `<script>alert(1)</script>`

// checkShownAsText checks that p shows the payload as text and ran none of
// it: the payload is in the page's visible text, no script element holds
// it, no dialog was opened, and every script element is one of the page's
// own, as own tells (by src, or "inline:" and the text).
func checkShownAsText(p *pageView, own func(script string) bool) error {
	var errs []string
	if !strings.Contains(p.Text, xss) {
		errs = append(errs, fmt.Sprintf("the payload %s is not in the page's text", xss))
	}
	for _, s := range p.Scripts {
		if strings.Contains(s, "alert(") {
			errs = append(errs, fmt.Sprintf("a script element of the payload exists: %q", s))
		}
	}
	if p.XSS != 0 {
		errs = append(errs, fmt.Sprintf("the payload ran: %d dialog(s) opened", p.XSS))
	}
	for _, s := range p.Scripts {
		if !own(s) {
			errs = append(errs, fmt.Sprintf("a script element not the page's own: %q", s))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
