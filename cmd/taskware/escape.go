package main

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// What the commands print comes from Redis, where anyone who can enqueue
// a task chose it: a task's name, ID or error may hold an escape sequence
// that clears the screen, sets the title, hides lines or writes the
// clipboard. Every character a terminal could act on is therefore printed
// as a visible escape, as Go writes it in a string: "\x1b", "\r",
// "\u202e"; a byte that is not UTF-8 as "\x9b".

// controlRune reports whether r is one a terminal acts on rather than
// shows: a C0 control, DEL, a C1 control (U+009B is CSI on some terminals),
// or a bidirectional override, isolate or mark, which reorders what
// follows it on the line.
func controlRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, 0x80 <= r && r <= 0x9f:
		return true
	case 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// visible returns s with every control character, the newline and tab
// too, and every byte that is not UTF-8 written as its escape. It is the
// one helper by which text read from Redis reaches the terminal: cells,
// fields, messages.
func visible(s string) string { return escape(s, "") }

// visibleText is visible, but keeps newlines and tabs: for a whole
// output, whose lines and tab-aligned columns are the command's own. Every
// command's output and error pass through it last, so that nothing it
// forgot to make visible reaches the terminal raw.
func visibleText(s string) string { return escape(s, "\n\t") }

// visibleLine is visible, but keeps tabs: for a line of a panic's stack,
// whose tabs indent its file lines.
func visibleLine(s string) string { return escape(s, "\t") }

// escape writes the control characters of s, but those in keep, and its
// bytes that are not UTF-8, as escapes.
func escape(s, keep string) string {
	if !needsEscape(s, keep) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		piece, n := shown(s, keep)
		b.WriteString(piece)
		s = s[n:]
	}
	return b.String()
}

// needsEscape reports whether s has a byte escape might change: a C0
// control or DEL not in keep, or any byte past ASCII.
func needsEscape(s, keep string) bool {
	for i := range len(s) {
		if c := s[i]; c >= 0x80 || c == 0x7f || (c < 0x20 && strings.IndexByte(keep, c) < 0) {
			return true
		}
	}
	return false
}

// shown returns how the first character of s is shown, and its length in
// bytes: itself, or its escape.
func shown(s, keep string) (string, int) {
	r, n := utf8.DecodeRuneInString(s)
	switch {
	case r == utf8.RuneError && n <= 1:
		return fmt.Sprintf(`\x%02x`, s[0]), 1
	case !controlRune(r) || strings.ContainsRune(keep, r):
		return s[:n], n
	case r == '\n':
		return `\n`, n
	case r == '\t':
		return `\t`, n
	case r == '\r':
		return `\r`, n
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r), n
	}
	return fmt.Sprintf(`\u%04x`, r), n
}

// visibleJSON returns a JSON document with the control characters that
// encoding/json leaves raw (DEL, the C1 controls, the bidirectional
// ones) written as \u escapes, which decode to the same strings: they can
// only stand inside a string. encoding/json escapes the C0 controls
// itself, and turns a byte that is not UTF-8 into U+FFFD.
func visibleJSON(doc []byte) []byte {
	var b bytes.Buffer
	for len(doc) > 0 {
		r, n := utf8.DecodeRune(doc)
		if r >= 0x7f && controlRune(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.Write(doc[:n])
		}
		doc = doc[n:]
	}
	return b.Bytes()
}

// cellWidth is the most characters a table's cell shows; a longer one is
// cut, and ends in "...".
const cellWidth = 60

// cell makes s fit a table's cell: one line, no tab, every control
// character visible, at most cellWidth characters, cut between two of
// them (never inside a character or its escape), "-" if empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	v := visible(s)
	if utf8.RuneCountInString(v) <= cellWidth {
		return v
	}
	var b strings.Builder
	for width := 0; len(s) > 0; {
		piece, n := shown(s, "")
		if width += utf8.RuneCountInString(piece); width > cellWidth-3 {
			break
		}
		b.WriteString(piece)
		s = s[n:]
	}
	return b.String() + "..."
}

// quote returns s, visible, in double quotes: for a name in a message.
func quote(s string) string { return `"` + visible(s) + `"` }

// shellWord returns s as a POSIX shell (bash, zsh) reads it back as one
// word: bare if it is all letters, digits and a few marks; else in single
// quotes; else, if it holds a control character or a byte that is not
// UTF-8, in ANSI-C quotes ($'...'), the character written as the escapes
// of its bytes, "\x1b", "\xe2\x80\xae". No control character is left raw,
// as visible leaves none; but unlike visible's, these escapes are the
// shell's, so that a command line printed with it runs as given.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !shellSafe(r) }) < 0 {
		return s
	}
	if !strings.ContainsFunc(s, func(r rune) bool { return controlRune(r) || r == utf8.RuneError }) {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError || controlRune(r):
			for i := range n {
				fmt.Fprintf(&b, `\x%02x`, s[i])
			}
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	b.WriteByte('\'')
	return b.String()
}

// shellSafe reports whether r needs no quotes in a shell word.
func shellSafe(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)
}
