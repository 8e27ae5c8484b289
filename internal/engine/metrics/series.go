package metrics

import (
	"math"
	"slices"
	"time"
)

// MaxSeriesAge is how far back the per-minute series go (api.MaxMetricsSince).
const MaxSeriesAge = 24 * time.Hour

// Latency buckets of a minute: bucket i holds durations up to firstBoundMS * growth^i, the last
// one everything longer. With growth 1.5 a quantile read from them is within about 20% of the
// true value, in 38 counters a minute (a deployment busy all day: about 250 KiB).
const (
	latencyBuckets = 38
	firstBoundMS   = 0.1
	growth         = 1.5
)

// deploymentSeries is the minutes of one deployment that had requests, oldest first.
type deploymentSeries struct {
	minutes []minuteBucket
}

type minuteBucket struct {
	minute                       int64 // Unix time / 60
	requests, errors, coldStarts int64
	minMS, maxMS                 float64
	latency                      [latencyBuckets]uint32
}

func (s *deploymentSeries) add(began time.Time, failed, coldStart bool, took time.Duration) {
	minute := began.Unix() / 60
	i := len(s.minutes) - 1
	if i < 0 || s.minutes[i].minute < minute {
		s.prune(began) // a new minute: time to let the oldest go
		i = len(s.minutes) - 1
	}
	for i >= 0 && s.minutes[i].minute > minute {
		i-- // answered after a later arrival: its minute is an earlier one
	}
	if i < 0 || s.minutes[i].minute != minute {
		s.minutes = slices.Insert(s.minutes, i+1, minuteBucket{minute: minute, minMS: math.Inf(1)})
		i++
	}
	b := &s.minutes[i]
	ms := float64(took) / float64(time.Millisecond)
	b.requests++
	if failed {
		b.errors++
	}
	if coldStart {
		b.coldStarts++
	}
	b.minMS, b.maxMS = min(b.minMS, ms), max(b.maxMS, ms)
	b.latency[latencyBucket(ms)]++
}

// prune drops the minutes older than MaxSeriesAge before now.
func (s *deploymentSeries) prune(now time.Time) {
	oldest := now.Add(-MaxSeriesAge).Unix() / 60
	n := 0
	for n < len(s.minutes) && s.minutes[n].minute < oldest {
		n++
	}
	s.minutes = slices.Delete(s.minutes, 0, n)
}

func latencyBucket(ms float64) int {
	if ms <= firstBoundMS {
		return 0
	}
	return min(int(math.Ceil(math.Log(ms/firstBoundMS)/math.Log(growth))), latencyBuckets-1)
}

func bucketBoundMS(i int) float64 { return firstBoundMS * math.Pow(growth, float64(i)) }

// quantileMS estimates the q quantile of the minute's durations: interpolated within its bucket,
// and never outside the fastest and slowest request seen.
func (b *minuteBucket) quantileMS(q float64) float64 {
	if b.requests == 0 {
		return 0
	}
	rank := q * float64(b.requests)
	var seen float64
	for i, n := range b.latency {
		if n == 0 {
			continue
		}
		if seen+float64(n) >= rank {
			lo := 0.0
			if i > 0 {
				lo = bucketBoundMS(i - 1)
			}
			hi := bucketBoundMS(i)
			if i == latencyBuckets-1 {
				hi = b.maxMS
			}
			estimate := lo + (hi-lo)*(rank-seen)/float64(n)
			return math.Round(min(max(estimate, b.minMS), b.maxMS)*1000) / 1000
		}
		seen += float64(n)
	}
	return b.maxMS
}
