package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestVisible(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain report:acct-1", "plain report:acct-1"},
		{"héllo wörld ✓", "héllo wörld ✓"},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"\x1b[2J", `\x1b[2J`},
		{"a\rb\nc\td\x7f\x08", `a\rb\nc\td\x7f\x08`},
		{"csi \u009b31m", `csi \u009b31m`},
		{"raw byte \x9b31m", `raw byte \x9b31m`},
		{"cut \xe2\x82", `cut \xe2\x82`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"\u2066iso\u2069 \u200f", `\u2066iso\u2069 \u200f`},
	} {
		if got := visible(tc.in); got != tc.want {
			t.Errorf("visible(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := visibleText("a\tb\nc\x1b[2J\r"); got != "a\tb\nc\\x1b[2J\\r" {
		t.Errorf("visibleText keeps tabs and newlines only: %q", got)
	}
}

// A cell is cut between characters, never inside one or inside an escape.
func TestCellCutsOnCharacters(t *testing.T) {
	long := strings.Repeat("é", 70)
	got := cell(long)
	if !utf8.ValidString(got) || got != strings.Repeat("é", cellWidth-3)+"..." {
		t.Errorf("cell of 70 é = %q", got)
	}
	for pad := range 8 {
		s := strings.Repeat("x", 50+pad) + "\x1b[2J\x1b[2J" + strings.Repeat("日本", 10)
		got := cell(s)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > cellWidth || !strings.HasSuffix(got, "...") {
			t.Errorf("cell(%q) = %q: not valid, too long or not cut", s, got)
		}
		body := strings.TrimSuffix(got, "...")
		if !strings.HasPrefix(visible(s), body) {
			t.Errorf("cell(%q) = %q, not a prefix of the visible text", s, got)
		}
		if i := strings.LastIndexByte(body, '\\'); i >= 0 && len(body)-i < len(`\x1b`) {
			t.Errorf("cell(%q) = %q cuts an escape", s, got)
		}
	}
	if got := cell("a\tb\nc"); got != "a b c" {
		t.Errorf("cell keeps a tab or newline: %q", got)
	}
	if got := cell(""); got != "-" {
		t.Errorf("empty cell = %q", got)
	}
}

// encoding/json escapes the C0 controls but not DEL, the C1 controls or
// the bidirectional ones; visibleJSON does, and the document decodes to
// the same strings.
func TestVisibleJSON(t *testing.T) {
	in := "\x1b]52;c;cHduZWQ=\x07\r\x7f\u009b\u202e\u2066ok"
	doc, err := json.Marshal(map[string]string{"error": in})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "\u009b") {
		t.Fatalf("encoding/json escapes U+009B now; visibleJSON may be unneeded: %s", doc)
	}
	out := visibleJSON(doc)
	for _, r := range string(out) {
		if controlRune(r) {
			t.Errorf("visibleJSON left %U raw in %s", r, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["error"] != in {
		t.Errorf("decodes to %q, %v; want %q", back["error"], err, in)
	}
}
