package supply

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"strings"
	"time"
	"unsafe"
)

// itemStore holds the embedded index's items, and the versions of deleted
// ones (tombstones), as records in slabs of bytes, found by a map from
// the hash of their key. Neither the slabs nor the map hold a pointer, so
// the collector never marks them: at 2·10^6 items a map of *Item (each
// with ten strings and slices), its versions and Compact's chunks were
// some 700 MB it marked every cycle, and while it marked, every copy of a
// hit paid a write barrier (issue 15's latency growth: a third of a
// search's CPU at 10^6 providers). A pointer-free heap also leaves
// gctune's pacing base, so the collector runs after what the requests
// allocate, not after twice the index.
//
// Records are written once and never changed: a change appends a new
// record and points the key at it. An Item read from the store shares the
// record's bytes (its text is views of the slab; its identity a copy, see
// decode), so it stays valid after the store moves on, and the slab lives
// as long as any such string. The bytes of replaced records are counted, and the store is
// rewritten once they outweigh the live ones (Memory.Apply), so a process
// that serves price changes for months does not grow with them.
//
// Not safe for concurrent use: Memory guards it with its lock.
type itemStore struct {
	seed maphash.Seed
	// pseed is the seeds of providerHash.
	pseed [2]maphash.Seed
	slabs [][]byte
	// at is the latest record of every key by the key's hash; spill
	// holds the keys whose hash another key took first (with 64-bit
	// hashes, none in practice; kept so a collision is never a wrong
	// item).
	at    map[uint64]ref
	spill map[string]ref
	// live counts the keys whose latest record is an item; bytes is the
	// size of the latest records, dead that of the records replaced
	// since the store was written.
	live        int
	bytes, dead int64
	// slabBytes is the slabs' capacity.
	slabBytes int64
	// collide, in tests, hashes every key alike (the spill path).
	collide bool
}

// ref is a record's place: its slab, and its offset in the slab. 0 is no
// record (the first slab starts with a byte of padding).
type ref uint64

func refOf(slab, off int) ref        { return ref(uint64(slab)<<32 | uint64(off)) }
func (r ref) split() (slab, off int) { return int(r >> 32), int(uint32(r)) }

// slabSize is a slab's size; a record larger than it (a few, at the most
// the item limits allow) gets a slab of its own.
const slabSize = 1 << 20

func newItemStore() *itemStore {
	s := &itemStore{seed: maphash.MakeSeed(), pseed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, at: map[uint64]ref{}, spill: map[string]ref{}}
	s.slabs, s.slabBytes = [][]byte{make([]byte, 1, slabSize)}, slabSize
	return s
}

// A record is a fixed head, then the key and the item's strings:
//
//	flags (1) version (8) rating (8) price (8) [lat lon (16)] [updated s ns (12)]
//	key, uvarint len(provider), uvarint len(kind)
//	name, description, category, currency, tags, cities
//
// (strings as uvarint length and bytes; lists as uvarint count and
// strings). A tombstone is the head and the key. The ID is the key's
// tail, after provider/kind/.
const (
	flagDeleted = 1 << iota
	flagAvailable
	flagGeo
	flagUpdated
)

const (
	offVersion = 1
	offRating  = 9
	offPrice   = 17
	headSize   = 25
)

// find is key's latest record, if any (an item or a tombstone).
func (s *itemStore) find(key string) (ref, bool) {
	h := s.hash(key)
	if r, ok := s.at[h]; ok && s.key(r) == key {
		return r, true
	}
	r, ok := s.spill[key]
	return r, ok
}

func (s *itemStore) hash(key string) uint64 {
	if s.collide {
		return 1
	}
	return maphash.String(s.seed, key)
}

// providerHash identifies a provider by two independent 64-bit hashes of
// its id: a map keyed by it holds no pointer. Two of 10^6 providers share
// one with a probability of about 10^-26.
type providerHash [2]uint64

func (s *itemStore) providerHash(provider string) providerHash {
	return providerHash{maphash.String(s.pseed[0], provider), maphash.String(s.pseed[1], provider)}
}

// kindConst is k as its package constant when it is one, so that a map
// keyed by kinds keeps no view of a record.
func kindConst(k Kind) Kind {
	for _, c := range [...]Kind{KindProduct, KindStore, KindDoctor, KindLawyer, KindGovService, KindOffice} {
		if c == k {
			return c
		}
	}
	return k
}

// item is key's live item's record, if it has one.
func (s *itemStore) item(key string) (ref, bool) {
	r, ok := s.find(key)
	if !ok || s.deleted(r) {
		return 0, false
	}
	return r, true
}

// put writes key's new latest record: it (nil for a tombstone) at
// version. It returns the record it replaces (0 when none).
func (s *itemStore) put(key string, it *Item, version int64) (old ref) {
	r := s.append(key, it, version)
	h := s.hash(key)
	switch prev, ok := s.at[h]; {
	case !ok:
		s.at[h] = r
	case s.key(prev) == key:
		s.at[h], old = r, prev
	default:
		old = s.spill[key]
		s.spill[key] = r
	}
	if old != 0 {
		n := int64(s.size(old))
		s.bytes -= n
		s.dead += n
		if !s.deleted(old) {
			s.live--
		}
	}
	s.bytes += int64(s.size(r))
	if it != nil {
		s.live++
	}
	return old
}

// append writes a record and returns its place.
func (s *itemStore) append(key string, it *Item, version int64) ref {
	var head [headSize + 28]byte
	flags := byte(0)
	if it == nil {
		flags |= flagDeleted
	} else {
		if it.Available {
			flags |= flagAvailable
		}
		binary.LittleEndian.PutUint64(head[offRating:], math.Float64bits(it.Rating))
		binary.LittleEndian.PutUint64(head[offPrice:], uint64(it.Price))
	}
	binary.LittleEndian.PutUint64(head[offVersion:], uint64(version))
	n := headSize
	if it != nil && it.Geo != nil {
		flags |= flagGeo
		binary.LittleEndian.PutUint64(head[n:], math.Float64bits(it.Geo.Lat))
		binary.LittleEndian.PutUint64(head[n+8:], math.Float64bits(it.Geo.Lon))
		n += 16
	}
	if it != nil && !it.UpdatedAt.IsZero() {
		flags |= flagUpdated
		binary.LittleEndian.PutUint64(head[n:], uint64(it.UpdatedAt.Unix()))
		binary.LittleEndian.PutUint32(head[n+8:], uint32(it.UpdatedAt.Nanosecond()))
		n += 12
	}
	head[0] = flags
	size := n + binary.MaxVarintLen64 + len(key)
	if it != nil {
		size += 2*binary.MaxVarintLen64 + strLen(it.Name) + strLen(it.Description) + strLen(it.Category) + strLen(it.Currency) +
			listLen(it.Tags) + listLen(it.Cities)
	}
	slab := s.room(size)
	b := s.slabs[slab]
	off := len(b)
	b = append(b, head[:n]...)
	b = appendStr(b, key)
	if it != nil {
		b = binary.AppendUvarint(b, uint64(len(it.Provider)))
		b = binary.AppendUvarint(b, uint64(len(it.Kind)))
		for _, v := range []string{it.Name, it.Description, it.Category, it.Currency} {
			b = appendStr(b, v)
		}
		b = appendList(b, it.Tags)
		b = appendList(b, it.Cities)
	}
	s.slabs[slab] = b
	return refOf(slab, off)
}

// room is the slab a record of up to size bytes goes in: the last, or a
// new one when the last has less room.
func (s *itemStore) room(size int) int {
	slab := len(s.slabs) - 1
	if cur := s.slabs[slab]; cap(cur)-len(cur) < size {
		s.slabs = append(s.slabs, make([]byte, 0, max(slabSize, size)))
		s.slabBytes += int64(max(slabSize, size))
		slab++
	}
	return slab
}

// each calls f with every key's latest record (items and tombstones).
func (s *itemStore) each(f func(ref)) {
	for _, r := range s.at {
		f(r)
	}
	for _, r := range s.spill {
		f(r)
	}
}

func strLen(v string) int { return binary.MaxVarintLen64 + len(v) }

func listLen(vs []string) int {
	n := binary.MaxVarintLen64
	for _, v := range vs {
		n += strLen(v)
	}
	return n
}

func appendStr(b []byte, v string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func appendList(b []byte, vs []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = appendStr(b, v)
	}
	return b
}

// rec is r's bytes, from its start to its slab's end.
func (s *itemStore) rec(r ref) []byte {
	slab, off := r.split()
	return s.slabs[slab][off:]
}

func (s *itemStore) deleted(r ref) bool { return s.rec(r)[0]&flagDeleted != 0 }

func (s *itemStore) version(r ref) int64 {
	return int64(binary.LittleEndian.Uint64(s.rec(r)[offVersion:]))
}

func (s *itemStore) rating(r ref) float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64(s.rec(r)[offRating:]))
}

// keyAt is where r's key starts.
func keyAt(b []byte) int {
	n := headSize
	if b[0]&flagGeo != 0 {
		n += 16
	}
	if b[0]&flagUpdated != 0 {
		n += 12
	}
	return n
}

// key is r's key, a view of the slab.
func (s *itemStore) key(r ref) string {
	b := s.rec(r)
	v, _ := readStr(b, keyAt(b))
	return v
}

// size is r's length in bytes.
func (s *itemStore) size(r ref) int {
	b := s.rec(r)
	_, n := readStr(b, keyAt(b))
	if b[0]&flagDeleted != 0 {
		return n
	}
	_, w1 := binary.Uvarint(b[n:])
	_, w2 := binary.Uvarint(b[n+w1:])
	n += w1 + w2
	for range 4 {
		_, n = readStr(b, n)
	}
	for range 2 {
		c, w := binary.Uvarint(b[n:])
		n += w
		for range c {
			_, n = readStr(b, n)
		}
	}
	return n
}

// readStr reads the string at b[n:], a view of b, and returns it and the
// offset after it.
func readStr(b []byte, n int) (string, int) {
	l, w := binary.Uvarint(b[n:])
	n += w
	if l == 0 {
		return "", n
	}
	return unsafe.String(&b[n], int(l)), n + int(l)
}

// providerKind is the provider and kind of r's item (r must not be a
// tombstone), views of the slab.
func (s *itemStore) providerKind(r ref) (string, Kind) {
	b := s.rec(r)
	key, n := readStr(b, keyAt(b))
	pl, w := binary.Uvarint(b[n:])
	kl, _ := binary.Uvarint(b[n+w:])
	return key[:pl], Kind(key[pl+1 : pl+1+kl])
}

// numbers are what a sort reads of r's item: no string is read.
func (s *itemStore) numbers(r ref) (price int64, rating float64, geo Geo, hasGeo bool) {
	b := s.rec(r)
	price = int64(binary.LittleEndian.Uint64(b[offPrice:]))
	rating = math.Float64frombits(binary.LittleEndian.Uint64(b[offRating:]))
	if hasGeo = b[0]&flagGeo != 0; hasGeo {
		geo = Geo{Lat: math.Float64frombits(binary.LittleEndian.Uint64(b[headSize:])),
			Lon: math.Float64frombits(binary.LittleEndian.Uint64(b[headSize+8:]))}
	}
	return price, rating, geo, hasGeo
}

// lists hands out the string slices and Geos of the items a page decodes
// from one allocation each, not two or three per item. The slices are
// capped, so appending to one never writes into the next.
type lists struct {
	strs []string
	geos []Geo
}

func (l *lists) strings(n int) []string {
	if n == 0 {
		return nil
	}
	if len(l.strs) < n {
		l.strs = make([]string, max(n, 256))
	}
	out := l.strs[:n:n]
	l.strs = l.strs[n:]
	return out
}

func (l *lists) geo(g Geo) *Geo {
	if len(l.geos) == 0 {
		l.geos = make([]Geo, 32)
	}
	out := &l.geos[0]
	*out = g
	l.geos = l.geos[1:]
	return out
}

// decode is r's item (r must not be a tombstone). Its provider, kind and
// ID share one copy of the key: they name the item downstream, where a
// long-lived map (traffic by provider, a cache) may keep them, and a view
// would keep the whole slab with them. Its other strings are views of the
// slab, for the request that reads them; its slices come from l.
func (s *itemStore) decode(r ref, l *lists) Item {
	b := s.rec(r)
	var it Item
	it.Available = b[0]&flagAvailable != 0
	it.Version = int64(binary.LittleEndian.Uint64(b[offVersion:]))
	it.Rating = math.Float64frombits(binary.LittleEndian.Uint64(b[offRating:]))
	it.Price = int64(binary.LittleEndian.Uint64(b[offPrice:]))
	n := headSize
	if b[0]&flagGeo != 0 {
		it.Geo = l.geo(Geo{Lat: math.Float64frombits(binary.LittleEndian.Uint64(b[n:])),
			Lon: math.Float64frombits(binary.LittleEndian.Uint64(b[n+8:]))})
		n += 16
	}
	if b[0]&flagUpdated != 0 {
		it.UpdatedAt = time.Unix(int64(binary.LittleEndian.Uint64(b[n:])), int64(binary.LittleEndian.Uint32(b[n+8:]))).UTC()
		n += 12
	}
	key, n := readStr(b, n)
	key = strings.Clone(key)
	pl, w := binary.Uvarint(b[n:])
	n += w
	kl, w := binary.Uvarint(b[n:])
	n += w
	it.Provider, it.Kind, it.ID = key[:pl], Kind(key[pl+1:pl+1+kl]), key[pl+1+kl+1:]
	it.Name, n = readStr(b, n)
	it.Description, n = readStr(b, n)
	it.Category, n = readStr(b, n)
	it.Currency, n = readStr(b, n)
	for _, list := range []*[]string{&it.Tags, &it.Cities} {
		c, w := binary.Uvarint(b[n:])
		n += w
		*list = l.strings(int(c))
		for i := range *list {
			(*list)[i], n = readStr(b, n)
		}
	}
	return it
}

// rewrite copies every key's latest record into new slabs, in order
// first (keys it names that have a record), then the rest, and returns
// where each record it copied went. The bytes of replaced records are
// gone (no longer referenced, they are the collector's); items read
// before keep their views of the old slabs.
func (s *itemStore) rewrite(order []string) map[ref]ref {
	moved := make(map[ref]ref, len(s.at)+len(s.spill))
	fresh := &itemStore{seed: s.seed, pseed: s.pseed, collide: s.collide, slabs: [][]byte{make([]byte, 1, slabSize)}, slabBytes: slabSize,
		at: make(map[uint64]ref, len(s.at)), spill: make(map[string]ref, len(s.spill))}
	copyRec := func(r ref) ref {
		if to, ok := moved[r]; ok {
			return to
		}
		b := s.rec(r)[:s.size(r)]
		slab := fresh.room(len(b))
		off := len(fresh.slabs[slab])
		fresh.slabs[slab] = append(fresh.slabs[slab], b...)
		to := refOf(slab, off)
		moved[r] = to
		return to
	}
	for _, key := range order {
		if r, ok := s.find(key); ok {
			copyRec(r)
		}
	}
	for h, r := range s.at {
		fresh.at[h] = copyRec(r)
	}
	for k, r := range s.spill {
		fresh.spill[k] = copyRec(r)
	}
	s.slabs, s.slabBytes, s.at, s.spill, s.dead = fresh.slabs, fresh.slabBytes, fresh.at, fresh.spill, 0
	return moved
}

// worthRewriting reports whether the replaced records outweigh the live
// ones by enough to pay for copying them.
func (s *itemStore) worthRewriting() bool {
	return s.dead > rewriteAfter && s.dead > s.bytes
}

// rewriteAfter is the least dead bytes worth a rewrite. A variable so
// tests can rewrite small stores.
var rewriteAfter int64 = 16 << 20

// heap is the store's heap: slabs and maps, none of it scanned but the
// spill map (its keys are strings).
func (s *itemStore) heap() heapSize {
	b := s.slabBytes + int64(len(s.at))*(8+8+1)*8/7
	spill := int64(len(s.spill)) * mapSlot
	return heapSize{bytes: b + spill, scan: spill}
}
