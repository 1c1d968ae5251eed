package redisbackend

import (
	"errors"
	"strings"
	"testing"
)

// appendFlat reads the entries take.lua lays out flat, the usual
// one-field entry and one of other fields alike, and refuses a reply
// cut short or miscounted rather than handing out what it misread.
func TestAppendFlat(t *testing.T) {
	msg := "m1" + strings.Repeat("1:1", 3) + "0:0:1:a1:t0:0:0:"
	ds, n, err := appendFlat(nil, "q", []string{"1-0", "2", "m", msg, "2-0", "4", "m", msg, "attempt", "2", "3-0", "2", "id", "x", "4-0", "0"})
	if err != nil || n != 4 || len(ds) != 4 {
		t.Fatalf("appendFlat = %d deliveries, %d, %v; want 4, 4, nil", len(ds), n, err)
	}
	if ds[0].Receipt != "1-0" || ds[0].ID != "a" || ds[0].Task != "t" || ds[0].Malformed != nil {
		t.Errorf("usual entry read as %+v", ds[0])
	}
	if ds[1].Receipt != "2-0" || ds[1].ID != "a" || ds[1].Attempt != 2 || ds[1].Malformed != nil {
		t.Errorf("entry of two fields read as %+v", ds[1])
	}
	if ds[2].Receipt != "3-0" || ds[2].Malformed == nil || !strings.Contains(ds[2].Malformed.Error(), "no message") {
		t.Errorf("entry without a message read as %+v", ds[2])
	}
	if ds[3].Receipt != "4-0" || ds[3].Malformed == nil || ds[3].Queue != "q" {
		t.Errorf("entry without fields read as %+v", ds[3])
	}
	for _, bad := range [][]string{{"1-0"}, {"1-0", "x"}, {"1-0", "-2"}, {"1-0", "3", "m", "a", "b"}, {"1-0", "4", "m", "a"}} {
		if _, _, err := appendFlat(nil, "q", bad); !errors.Is(err, errTakeReply) {
			t.Errorf("appendFlat(%q) = %v, want errTakeReply", bad, err)
		}
	}
}
