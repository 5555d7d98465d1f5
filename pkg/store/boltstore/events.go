package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// The event log of a tenant is two sub-buckets of its bucket:
//
//	events        sequence (8 bytes, big-endian) -> version byte + JSON event
//	events.keys   event key -> sequence
//
// The sequence is the events bucket's own bbolt sequence, taken with
// NextSequence inside the committing transaction, so numbers follow commit
// order, survive restarts and are rolled back with a failed commit.

// eventRec is the stored form of a dwell.Event (its Seq is the key).
type eventRec struct {
	Type       int       `json:"y"`
	Rep        string    `json:"r"`
	Team       string    `json:"tm,omitempty"`
	Client     string    `json:"c,omitempty"`
	Time       time.Time `json:"t"`
	DetectTime time.Time `json:"dt"`
	Late       bool      `json:"l,omitempty"`
	Key        string    `json:"k,omitempty"`
}

// eventHead is the part of a stored event that pruning and erasure read:
// decoding it leaves the other fields unread.
type eventHead struct {
	Rep        string    `json:"r"`
	DetectTime time.Time `json:"dt"`
	Key        string    `json:"k,omitempty"`
}

// decodeEventHead decodes the head of the stored event v.
func decodeEventHead(v []byte) (eventHead, error) {
	var h eventHead
	err := decodeJSON("boltstore.decodeEvent", "event", v, &h)
	return h, err
}

func toEventRec(e *dwell.Event) eventRec {
	return eventRec{Type: int(e.Type), Rep: string(e.Rep), Team: string(e.Team), Client: string(e.Client),
		Time: e.Time.UTC(), DetectTime: e.DetectTime.UTC(), Late: e.Late, Key: e.Key}
}

func (r *eventRec) domain(seq uint64) dwell.Event {
	return dwell.Event{Seq: seq, Type: dwell.EventType(r.Type), Rep: dwell.RepID(r.Rep), Team: dwell.TeamID(r.Team),
		Client: dwell.ClientID(r.Client), Time: r.Time.UTC(), DetectTime: r.DetectTime.UTC(), Late: r.Late, Key: r.Key}
}

// AppendEvents implements store.Store. The events are encoded by the
// calling goroutine; the committer only looks keys up and inserts.
func (s *Store) AppendEvents(ctx context.Context, tenant dwell.TenantID, evs []dwell.Event) ([]uint64, error) {
	const op = dwell.Op("boltstore.AppendEvents")
	if err := checkTenant(op, tenant); err != nil {
		return nil, err
	}
	return s.appendEvents(ctx, op, tenant, nil, evs)
}

// AppendDayEvents implements store.EventLog: the erase check
// (erasedAbove) and the append are one write.
func (s *Store) AppendDayEvents(ctx context.Context, from store.DayVersion, evs []dwell.Event) ([]uint64, error) {
	const op = dwell.Op("boltstore.AppendDayEvents")
	if err := checkTenantID(op, from.Tenant, "rep", string(from.Rep)); err != nil {
		return nil, err
	}
	if !from.Date.Valid() {
		return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "date", Description: "must be a real calendar day"})
	}
	return s.appendEvents(ctx, op, from.Tenant, &from, evs)
}

// appendEvents appends evs to the tenant's log; if from is not nil, only
// if from's day was not erased above from.Version.
func (s *Store) appendEvents(ctx context.Context, op dwell.Op, tenant dwell.TenantID, from *store.DayVersion, evs []dwell.Event) ([]uint64, error) {
	if len(evs) == 0 {
		return []uint64{}, nil
	}
	vals := make([][]byte, len(evs))
	for i := range evs {
		e := &evs[i]
		field := func(name string) string { return fmt.Sprintf("events[%d].%s", i, name) }
		switch {
		case !e.Type.Valid():
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: field("type"), Description: "must be an event type"})
		case e.Rep == "" || len(e.Rep) > dwell.MaxIDBytes:
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: field("rep"), Description: fmt.Sprintf("must be 1 to %d bytes", dwell.MaxIDBytes)})
		case len(e.Key) > dwell.MaxEventKeyBytes:
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: field("key"), Description: fmt.Sprintf("must be at most %d bytes", dwell.MaxEventKeyBytes)})
		case !keyTimeOK(e.Time) || !keyTimeOK(e.DetectTime):
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: field("time"), Description: "must be between the years 1678 and 2262"})
		}
		rec := toEventRec(e)
		v, err := encodeJSON(op, &rec)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	var seqs []uint64
	err := s.write(ctx, op, len(evs), func(t *txn) error {
		seqs = make([]uint64, len(evs))
		if from != nil {
			if erased, err := erasedAbove(t, tenant, dayKey(from.Rep, from.Date), from.Version); erased || err != nil {
				return err
			}
		}
		log, err := t.tenantSub(tenant, bktEvents, true)
		if err != nil {
			return err
		}
		log.FillPercent = appendFillPercent
		keys, err := t.tenantSub(tenant, bktEventKeys, true)
		if err != nil {
			return err
		}
		for i := range evs {
			var k []byte
			if evs[i].Key != "" {
				k = []byte(evs[i].Key)
				if keys.Get(k) != nil {
					continue
				}
			}
			seq, err := log.NextSequence()
			if err != nil {
				return err
			}
			sk := seqKey(seq)
			if err := log.Put(sk, vals[i]); err != nil {
				return err
			}
			if k != nil {
				if err := keys.Put(k, sk); err != nil {
					return err
				}
			}
			seqs[i] = seq
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return seqs, nil
}

// keyEventsPruned is the key, in the tenant's bucket, of the largest
// sequence number PruneEvents deleted.
var keyEventsPruned = []byte("events.pruned")

// PruneEvents implements store.EventLog.
func (s *Store) PruneEvents(ctx context.Context, tenant dwell.TenantID, before time.Time, limit int) (int, bool, error) {
	const op = dwell.Op("boltstore.PruneEvents")
	if err := checkTenant(op, tenant); err != nil {
		return 0, false, err
	}
	if limit < 1 {
		return 0, false, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "limit", Description: "must be at least 1"})
	}
	var deleted int
	var more bool
	err := s.write(ctx, op, limit, func(t *txn) error {
		deleted, more = 0, false
		b, err := t.tenantSub(tenant, bktEvents, false)
		if b == nil || err != nil {
			return err
		}
		keys, err := t.tenantSub(tenant, bktEventKeys, false)
		if err != nil {
			return err
		}
		var seqs [][]byte
		var evKeys []string
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			r, err := decodeEventHead(v)
			if err != nil {
				return err
			}
			if !r.DetectTime.Before(before) {
				break
			}
			if len(seqs) == limit {
				more = true
				break
			}
			seqs, evKeys = append(seqs, bytes.Clone(k)), append(evKeys, r.Key)
		}
		if len(seqs) == 0 {
			return nil
		}
		for i, k := range seqs {
			if err := b.Delete(k); err != nil {
				return err
			}
			if keys != nil && evKeys[i] != "" {
				if err := keys.Delete([]byte(evKeys[i])); err != nil {
					return err
				}
			}
		}
		deleted = len(seqs)
		tb, err := t.tenant(tenant, false)
		if err != nil {
			return err
		}
		return tb.Put(keyEventsPruned, seqs[len(seqs)-1])
	})
	if err != nil {
		return 0, false, err
	}
	return deleted, more, nil
}

// PrunedEventSeq implements store.EventLog.
func (s *Store) PrunedEventSeq(ctx context.Context, tenant dwell.TenantID) (uint64, error) {
	const op = dwell.Op("boltstore.PrunedEventSeq")
	if err := checkTenant(op, tenant); err != nil {
		return 0, err
	}
	var seq uint64
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		if tb := tx.Bucket(tenantKey(tenant)); tb != nil {
			if v := tb.Get(keyEventsPruned); len(v) == 8 {
				seq = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return seq, err
}

// seqKey returns the 8-byte big-endian key of sequence number seq.
func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// ListEvents implements store.Store.
func (s *Store) ListEvents(ctx context.Context, tenant dwell.TenantID, after uint64, limit int) ([]dwell.Event, error) {
	const op = dwell.Op("boltstore.ListEvents")
	if err := checkTenant(op, tenant); err != nil {
		return nil, err
	}
	if limit < 1 || limit > store.MaxEventsPerList {
		return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "limit", Description: fmt.Sprintf("must be 1 to %d", store.MaxEventsPerList)})
	}
	out := []dwell.Event{}
	if after == ^uint64(0) {
		return out, nil
	}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		b := readTenantSub(tx, tenant, bktEvents)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) != 8 {
				return dwell.E(dwell.Other, fmt.Sprintf("event key of %d bytes", len(k)))
			}
			var r eventRec
			if err := decodeJSON("boltstore.decodeEvent", "event", v, &r); err != nil {
				return err
			}
			out = append(out, r.domain(binary.BigEndian.Uint64(k)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LastEventSeq implements store.Store.
func (s *Store) LastEventSeq(ctx context.Context, tenant dwell.TenantID) (uint64, error) {
	const op = dwell.Op("boltstore.LastEventSeq")
	if err := checkTenant(op, tenant); err != nil {
		return 0, err
	}
	var seq uint64
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		if b := readTenantSub(tx, tenant, bktEvents); b != nil {
			seq = b.Sequence()
		}
		return nil
	})
	return seq, err
}
