package randid

import (
	"encoding/hex"
	"math/rand/v2"
)

// Len is the length of an ID: 128 random bits in lowercase hex.
const Len = 32

// New returns a fresh ID.
//
// math/rand/v2's global source is ChaCha8 seeded by the runtime from the OS,
// so the IDs are unpredictable enough to tell owners apart, and drawing one
// costs no system call.
func New() string {
	var b [Len]byte
	Fill(&b)
	return string(b[:])
}

// Fill writes a fresh ID into dst, for callers that build it into a larger
// string without a separate allocation.
func Fill(dst *[Len]byte) {
	var b [16]byte
	a, c := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i] = byte(a >> (8 * i))
		b[8+i] = byte(c >> (8 * i))
	}
	hex.Encode(dst[:], b[:])
}
