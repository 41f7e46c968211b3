package ocsp

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// entry is a pre-signed response ready to serve: the hot path writes der
// and these pre-formatted headers without encoding anything.
type entry struct {
	der                   []byte
	status                int
	thisUpdate            time.Time
	nextUpdate, refreshAt time.Time
	// etag is the quoted hex SHA-256 of der (RFC 5019 §6.2).
	etag string
	// hdr holds header values ready to be assigned to an http.Header,
	// shared by every response that serves this entry: net/http only
	// reads them, and each slice is full (len == cap), so a later Add by
	// a middleware copies it instead of writing into the shared array.
	hdr struct {
		etag, lastModified, expires, contentLength []string
	}
}

func newEntry(der []byte, status int, thisUpdate, nextUpdate, refreshAt time.Time) *entry {
	sum := sha256.Sum256(der)
	e := &entry{
		der: der, status: status,
		thisUpdate: thisUpdate, nextUpdate: nextUpdate, refreshAt: refreshAt,
		etag: `"` + hex.EncodeToString(sum[:]) + `"`,
	}
	e.hdr.etag = []string{e.etag}
	// Last-Modified and Expires are thisUpdate and nextUpdate (RFC 5019 §6.2).
	e.hdr.lastModified = []string{thisUpdate.UTC().Format(http.TimeFormat)}
	e.hdr.expires = []string{nextUpdate.UTC().Format(http.TimeFormat)}
	e.hdr.contentLength = []string{strconv.Itoa(len(der))}
	return e
}

// memShards spreads the lock of the in-memory cache; a power of two.
const memShards = 64

// memCache is a bounded map of entries in front of store.Cache. When a
// shard is full, putting evicts an arbitrary entry of it (Go randomises
// map iteration), which costs a store read at worst, never a wrong answer.
type memCache struct {
	perShard int
	shards   [memShards]memShard
}

type memShard struct {
	mu sync.RWMutex
	m  map[string]*entry
	// poisoned keys have a store.Cache blob that Invalidate could not
	// delete: it must not be served, only replaced.
	poisoned map[string]struct{}

	// wmu orders the writes of a fresh response (memory and store.Cache)
	// against Invalidate for the keys of this shard; gen counts the
	// invalidations, so a writer that looked up the status before one
	// can tell and drop its now stale response. It is separate from mu
	// because it is held across store.Cache I/O.
	wmu sync.Mutex
	gen uint64
}

func newMemCache(entries int) *memCache {
	c := &memCache{perShard: max(1, entries/memShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*entry)
		c.shards[i].poisoned = make(map[string]struct{})
	}
	return c
}

// shard picks key's shard.
func (c *memCache) shard(key string) *memShard { return &c.shards[fnv1a(key)&(memShards-1)] }

// fnv1a is inline so that the hot path does not allocate a hasher.
func fnv1a[K string | []byte](key K) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return h
}

// get takes the key as bytes so that the hot path can build it on the
// stack: m[string(key)] does not allocate.
func (c *memCache) get(key []byte) *entry {
	s := &c.shards[fnv1a(key)&(memShards-1)]
	s.mu.RLock()
	e := s.m[string(key)]
	s.mu.RUnlock()
	return e
}

func (c *memCache) put(key string, e *entry) {
	s := c.shard(key)
	s.mu.Lock()
	if _, ok := s.m[key]; !ok && len(s.m) >= c.perShard {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[key] = e
	s.mu.Unlock()
}

// drop removes key and, when poison is set, marks its stored blob
// unusable; clearPoison undoes that once the blob is replaced or gone.
func (c *memCache) drop(key string, poison bool) {
	s := c.shard(key)
	s.mu.Lock()
	delete(s.m, key)
	if poison {
		s.poisoned[key] = struct{}{}
	}
	s.mu.Unlock()
}

func (c *memCache) clearPoison(key string) {
	s := c.shard(key)
	s.mu.Lock()
	delete(s.poisoned, key)
	s.mu.Unlock()
}

func (c *memCache) isPoisoned(key string) bool {
	s := c.shard(key)
	s.mu.RLock()
	_, ok := s.poisoned[key]
	s.mu.RUnlock()
	return ok
}

// generation is the invalidation count of key's shard; pair it with
// commit.
func (c *memCache) generation(key string) uint64 {
	s := c.shard(key)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.gen
}

// commit runs write under key's shard write lock if no invalidation of
// the shard happened since gen was read, and reports whether it ran.
func (c *memCache) commit(key string, gen uint64, write func()) bool {
	s := c.shard(key)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.gen != gen {
		return false
	}
	write()
	return true
}

// invalidate bumps key's shard generation and runs del under its write
// lock, so no response looked up before it can be written after it.
func (c *memCache) invalidate(key string, del func()) {
	s := c.shard(key)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.gen++
	del()
}
