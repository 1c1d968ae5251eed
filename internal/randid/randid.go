// Package randid makes random identifiers for task IDs and lock tokens.
package randid

import (
	"encoding/hex"
	"math/rand/v2"
)

// New returns 128 random bits as 32 lowercase hex characters.
//
// math/rand/v2's global source is ChaCha8 seeded by the runtime from the OS,
// so the IDs are unpredictable enough to tell owners apart, and drawing one
// costs no system call.
func New() string {
	var b [16]byte
	a, c := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i] = byte(a >> (8 * i))
		b[8+i] = byte(c >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}
