package task

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// jsonChunk is how much of a string or byte slice is encoded at a time.
const jsonChunk = 32 << 10

// maxStreamDepth is how deep encodeJSON goes into nested values before it
// leaves the rest to encoding/json, which finds cycles.
const maxStreamDepth = 64

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// encodeJSON writes v to w as json.Marshal encodes it, byte for byte, but
// piece by piece where a value may be large: strings and byte slices a
// chunk at a time, slices, arrays and maps with string keys an element at
// a time. It stops at w's first error.
func encodeJSON(w io.Writer, v any) error {
	if v == nil {
		_, err := io.WriteString(w, "null")
		return err
	}
	return streamJSON(w, reflect.ValueOf(v), 0)
}

func streamJSON(w io.Writer, v reflect.Value, depth int) error {
	if depth > maxStreamDepth || hasMarshaler(v) {
		return writeWhole(w, v)
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			_, err := io.WriteString(w, "null")
			return err
		}
		return streamJSON(w, v.Elem(), depth+1)
	case reflect.String:
		return writeString(w, v.String())
	case reflect.Slice:
		if v.IsNil() {
			_, err := io.WriteString(w, "null")
			return err
		}
		if elem := reflect.PointerTo(v.Type().Elem()); v.Type().Elem().Kind() == reflect.Uint8 &&
			!elem.Implements(jsonMarshaler) && !elem.Implements(textMarshaler) {
			return writeBase64(w, v.Bytes())
		}
		return writeElements(w, v, depth)
	case reflect.Array:
		return writeElements(w, v, depth)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.Type().Key().Implements(textMarshaler) ||
			v.Type().Key().Implements(jsonMarshaler) {
			return writeWhole(w, v)
		}
		if v.IsNil() {
			_, err := io.WriteString(w, "null")
			return err
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		if _, err := io.WriteString(w, "{"); err != nil {
			return err
		}
		for i, k := range keys {
			if i > 0 {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			if err := writeString(w, k.String()); err != nil {
				return err
			}
			if _, err := io.WriteString(w, ":"); err != nil {
				return err
			}
			if err := streamJSON(w, v.MapIndex(k), depth+1); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "}")
		return err
	}
	return writeWhole(w, v)
}

// hasMarshaler reports whether encoding/json would encode v by a method
// of its own: v's, or its pointer's if v is addressable.
func hasMarshaler(v reflect.Value) bool {
	t := v.Type()
	if t.Implements(jsonMarshaler) || t.Implements(textMarshaler) {
		return true
	}
	return v.CanAddr() && (reflect.PointerTo(t).Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(textMarshaler))
}

// writeWhole encodes v with encoding/json, whole, and writes it: from its
// address when it has one, so that methods on its pointer count, as they
// do inside the value it belongs to.
func writeWhole(w io.Writer, v reflect.Value) error {
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	b, err := json.Marshal(x)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// writeElements writes a slice's or an array's elements, one at a time.
func writeElements(w io.Writer, v reflect.Value, depth int) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i := range v.Len() {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := streamJSON(w, v.Index(i), depth+1); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]")
	return err
}

// writeString writes s as a JSON string, a chunk at a time: escaping is
// rune by rune, and no chunk ends inside a valid rune (past 3 continuation
// bytes in a row, none can be in one), so the chunks' escapes make the
// whole string's.
func writeString(w io.Writer, s string) error {
	if _, err := io.WriteString(w, `"`); err != nil {
		return err
	}
	for len(s) > 0 {
		n := min(len(s), jsonChunk)
		for i := 1; i < utf8.UTFMax && n < len(s) && !utf8.RuneStart(s[n]); i++ {
			n++
		}
		b, err := json.Marshal(s[:n])
		if err != nil {
			return err
		}
		if _, err := w.Write(b[1 : len(b)-1]); err != nil {
			return err
		}
		s = s[n:]
	}
	_, err := io.WriteString(w, `"`)
	return err
}

// writeBase64 writes b as encoding/json does a []byte, a chunk at a time
// (a multiple of 3 bytes, so the chunks' encodings make the whole's).
func writeBase64(w io.Writer, b []byte) error {
	if _, err := io.WriteString(w, `"`); err != nil {
		return err
	}
	buf := make([]byte, base64.StdEncoding.EncodedLen(min(len(b), jsonChunk/3*3)))
	for len(b) > 0 {
		n := min(len(b), jsonChunk/3*3)
		m := base64.StdEncoding.EncodedLen(n)
		base64.StdEncoding.Encode(buf[:m], b[:n])
		if _, err := w.Write(buf[:m]); err != nil {
			return err
		}
		b = b[n:]
	}
	_, err := io.WriteString(w, `"`)
	return err
}
