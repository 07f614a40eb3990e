package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// record is one interaction, with strings interned into the dataset's tables
// so half a million events take a few tens of megabytes.
type record struct {
	user, item, cat, city int32
	t                     int64 // unix seconds, UTC
}

// dataset holds a whole event file, interned.
type dataset struct {
	users, items, cats, cities tables
	recs                       []record
}

type tables struct {
	names []string
	idx   map[string]int32
}

func (t *tables) intern(s string) int32 {
	if i, ok := t.idx[s]; ok {
		return i
	}
	if t.idx == nil {
		t.idx = make(map[string]int32)
	}
	i := int32(len(t.names))
	t.idx[s] = i
	t.names = append(t.names, s)
	return i
}

// readEvents streams a CSV of `user,item,timestamp[,category[,city]]`.
// A first line whose third field is literally "timestamp" is a header.
// Timestamps are RFC 3339 or unix seconds. Errors name the line.
func readEvents(r io.Reader) (*dataset, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	ds := &dataset{}
	ds.cats.intern("")
	ds.cities.intern("")
	for first := true; ; first = false {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		if first && len(fields) >= 3 && strings.EqualFold(strings.TrimSpace(fields[2]), "timestamp") {
			continue
		}
		if len(fields) < 3 || len(fields) > 5 {
			return nil, fmt.Errorf("events: line %d: want user,item,timestamp[,category[,city]], got %d fields", line, len(fields))
		}
		user, item := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		if user == "" || item == "" {
			return nil, fmt.Errorf("events: line %d: empty user or item", line)
		}
		t, err := parseTimestamp(strings.TrimSpace(fields[2]))
		if err != nil {
			return nil, fmt.Errorf("events: line %d: %w", line, err)
		}
		rec := record{user: ds.users.intern(user), item: ds.items.intern(item), t: t}
		if len(fields) > 3 {
			rec.cat = ds.cats.intern(strings.TrimSpace(fields[3]))
		}
		if len(fields) > 4 {
			rec.city = ds.cities.intern(strings.TrimSpace(fields[4]))
		}
		ds.recs = append(ds.recs, rec)
	}
	return ds, nil
}

func parseTimestamp(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("timestamp %q is neither RFC 3339 nor unix seconds", s)
	}
	return t.Unix(), nil
}
