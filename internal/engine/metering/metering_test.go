package metering

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// usageStore keeps what is added, or refuses it while down.
type usageStore struct {
	store.Store // only the usage methods are called
	down        bool
	added       []store.UsageRecord
}

func (s *usageStore) AddUsage(_ context.Context, records []store.UsageRecord) error {
	if s.down {
		return errors.New("the database is down")
	}
	s.added = append(s.added, records...)
	return nil
}

func (s *usageStore) GetDeployment(_ context.Context, id string) (*store.Deployment, error) {
	if id == "dpl_taken_over" {
		return &store.Deployment{ID: id, ProjectID: "prj_b"}, nil
	}
	return nil, store.ErrNotFound
}

// Amounts are summed by project and day, function time is weighted by memory and charged to the
// project its deployment's requests named (or the store says), and a flush the store refuses
// loses nothing: the next one adds it.
func TestMeterSumsAndKeepsWhatTheStoreRefused(t *testing.T) {
	st := &usageStore{}
	now := time.Date(2026, 12, 1, 23, 59, 50, 0, time.UTC)
	ran := map[string]workers.InstanceTime{}
	m := New(Config{Store: st, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		InstanceTime: func() map[string]workers.InstanceTime {
			taken := ran
			ran = map[string]workers.InstanceTime{}
			return taken
		}})
	ctx := context.Background()

	m.Request("prj_a", "dpl_1", now, 100)
	m.Request("prj_a", "dpl_1", now.Add(20*time.Second), 50) // the next day
	m.Request("", "dpl_unrouted", now, 10)                   // no project: not counted
	m.Build("prj_a", now, 90*time.Second)
	ran["dpl_1"] = workers.InstanceTime{Duration: 2 * time.Second, MemoryMB: 512}
	ran["dpl_taken_over"] = workers.InstanceTime{Duration: time.Second, MemoryMB: 1024}
	ran["dpl_unknown"] = workers.InstanceTime{Duration: time.Hour, MemoryMB: 1024}

	st.down = true
	if err := m.Flush(ctx); err == nil {
		t.Fatal("a flush into a store that is down succeeded")
	}
	m.Request("prj_a", "dpl_1", now, 1) // counted meanwhile
	st.down = false
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]store.UsageRecord{}
	for _, r := range st.added {
		key := r.ProjectID + " " + r.Day.Format(time.DateOnly)
		sum := got[key]
		sum.Requests += r.Requests
		sum.BytesOut += r.BytesOut
		sum.MemoryMBMillis += r.MemoryMBMillis
		sum.BuildMillis += r.BuildMillis
		got[key] = sum
	}
	want := map[string]store.UsageRecord{
		"prj_a 2026-12-01": {Requests: 2, BytesOut: 101, MemoryMBMillis: 512 * 2000, BuildMillis: 90_000},
		"prj_a 2026-12-02": {Requests: 1, BytesOut: 50},
		"prj_b 2026-12-01": {MemoryMBMillis: 1024 * 1000},
	}
	if len(got) != len(want) {
		t.Errorf("added %v, want %v", got, want)
	}
	for key, w := range want {
		if got[key] != w {
			t.Errorf("%s: %+v, want %+v", key, got[key], w)
		}
	}
	st.added = nil
	if err := m.Flush(ctx); err != nil || len(st.added) != 0 {
		t.Errorf("a flush with nothing counted added %v, %v", st.added, err)
	}
}
