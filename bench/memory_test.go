package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestPayload(t *testing.T) {
	p := Payload(1024)
	if len(p) != 1024 || !bytes.Equal(p, Payload(1024)) {
		t.Fatalf("Payload(1024): %d bytes, or not the same twice", len(p))
	}
	var s string
	if err := json.Unmarshal(p, &s); err != nil || len(s) != 1022 {
		t.Fatalf("Payload(1024) is not a JSON string of 1022 bytes: %q, %v", s, err)
	}
	if again, _ := json.Marshal(s); !bytes.Equal(again, p) {
		t.Errorf("the JSON of its string is not the payload itself")
	}
}

// TestQueuedMemory enqueues 500 tasks of 1 KiB through each library on the
// real Redis: the server's memory rises by at least most of the payloads
// (others may free memory meanwhile on a shared server, hence the slack),
// and by less than a few times them, and no key is left behind.
func TestQueuedMemory(t *testing.T) {
	const n, size = 500, 1024
	client, base := testRedis(t)
	asynqClient := testConnect(t, testAsynqDB(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, lib := range MemoryLibs {
		t.Run(lib.Name, func(t *testing.T) {
			prefix := fmt.Sprintf("%s%d:", base, i)
			env := Env{Client: client, AsynqClient: asynqClient, Prefix: prefix}
			delta, err := QueuedMemory(ctx, lib, env, n, Payload(size))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d tasks of %d bytes: used_memory rose by %d", n, size, delta)
			if delta < n*size/2 || delta > 8*n*size {
				t.Errorf("%d tasks of %d bytes: used_memory rose by %d", n, size, delta)
			}
			if k := countKeys(t, client, prefix); k != 0 {
				t.Errorf("%d keys left under %s", k, prefix)
			}
			if k := countKeys(t, asynqClient, ""); k != 0 {
				t.Errorf("%d keys left in the asynq DB %d", k, asynqClient.Options().DB)
			}
		})
	}
	env := Env{Client: client, AsynqClient: asynqClient, Prefix: base + "bad:"}
	if _, err := QueuedMemory(ctx, MemoryLibs[0], env, 1, []byte("not a JSON string")); err == nil {
		t.Error("a payload taskware's codec would not make: no error")
	}
}
