package metrics

import (
	"math"
	"testing"
	"time"
)

// Requests land in the minute they arrived in, also when they are counted out of order; the
// quantiles come within the buckets' precision of the true ones.
func TestSeriesMinutesAndQuantiles(t *testing.T) {
	m := New()
	now := time.Date(2026, 1, 2, 3, 4, 30, 0, time.UTC)
	minute := now.Truncate(time.Minute)
	// 100 requests in the current minute taking 1..100 ms, one of them a 502 and a cold start.
	for i := 1; i <= 100; i++ {
		status, cold := 200, time.Duration(0)
		if i == 100 {
			status, cold = 502, 80*time.Millisecond
		}
		m.ObserveRequest("p", "dpl_a", status, minute.Add(time.Duration(i)*100*time.Millisecond), time.Duration(i)*time.Millisecond, cold)
	}
	// Counted after a later arrival: one in the minute before.
	m.ObserveRequest("p", "dpl_a", 200, minute.Add(-time.Second), 5*time.Millisecond, 0)
	// Too old for the series.
	m.ObserveRequest("p", "dpl_a", 200, now.Add(-25*time.Hour), 5*time.Millisecond, 0)

	got := m.Series("dpl_a", time.Hour, now)
	if len(got.Points) != 2 || got.StepSeconds != 60 {
		t.Fatalf("points: %+v", got)
	}
	before, current := got.Points[0], got.Points[1]
	if !before.Start.Equal(minute.Add(-time.Minute)) || before.Requests != 1 || before.P50MS != 5 || before.P99MS != 5 {
		t.Errorf("minute before: %+v", before)
	}
	if !current.Start.Equal(minute) || current.Requests != 100 || current.Errors != 1 || current.ColdStarts != 1 {
		t.Errorf("current minute: %+v", current)
	}
	if math.Abs(current.P50MS-50)/50 > 0.2 || math.Abs(current.P99MS-99)/99 > 0.2 {
		t.Errorf("p50 %v ms, p99 %v ms: want about 50 and 99", current.P50MS, current.P99MS)
	}
	if short := m.Series("dpl_a", 30*time.Second, now); len(short.Points) != 1 {
		t.Errorf("since=30s: %d points, want the current minute only", len(short.Points))
	}

	m.Forget("dpl_a")
	m.ObserveRequest("p", "dpl_a", 200, now, time.Millisecond, 0) // in flight during the delete
	if after := m.Series("dpl_a", time.Hour, now); len(after.Points) != 0 {
		t.Errorf("forgotten deployment: %+v", after)
	}
}
