package queue

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// A queue may be split into partitions, each a queue of its own to its
// backend (its own stream, delayed set and states, under its own Cluster
// hash tag), which workers, admins and handles see as one queue. Partition
// 0 is the queue itself, so an unpartitioned queue is a queue of one
// partition, and giving it more keeps what it holds. Partition i >= 1 is
// named "<queue>#<i>": '#' is reserved in queue names (ValidateName).

// PartitionName returns the name of partition i of queue.
func PartitionName(queue string, i int) string {
	if i <= 0 {
		return queue
	}
	return queue + "#" + strconv.Itoa(i)
}

// SplitPartition returns the queue that physical names, and its
// partition: "jobs#2" is partition 2 of "jobs", and "jobs" partition 0.
func SplitPartition(physical string) (queue string, i int) {
	at := strings.LastIndexByte(physical, '#')
	if at < 0 {
		return physical, 0
	}
	i, err := strconv.Atoi(physical[at+1:])
	if err != nil || i <= 0 {
		return physical, 0
	}
	return physical[:at], i
}

// PartitionFor returns the partition, of n, that a message routed by key
// goes to: the FNV-1a hash of key, modulo n. It is 0 when n <= 1.
func PartitionFor(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// RouteKey returns the key a message is routed to its partition by: its
// OrderKey, so that the tasks of one key keep their order; else its
// Group, so that a batch's members share a partition; else its Unique
// key, so that the key is held in one place; else its ID.
func (m *Message) RouteKey() string {
	switch {
	case m.OrderKey != "":
		return m.OrderKey
	case m.Group != "":
		return m.Group
	case m.Unique != "":
		return m.Unique
	}
	return m.ID
}
