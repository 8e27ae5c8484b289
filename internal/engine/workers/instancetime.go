package workers

import (
	"sync"
	"time"
)

// InstanceTime is how long the instances of one deployment ran, and the memory each may use:
// what function GB-hours are counted from, as Vercel counts them (memory limit x duration).
type InstanceTime struct {
	Duration time.Duration
	MemoryMB int64
}

// instanceClock counts the time instances run, from the start a request asked for until their
// processes exit. A parked start counts once a request resumes it: until then it serves nobody.
type instanceClock struct {
	mu      sync.Mutex
	running map[*deployment]time.Time // counted up to then
	ended   map[string]InstanceTime   // by deployment id: counted, not yet taken
}

func newInstanceClock() *instanceClock {
	return &instanceClock{running: map[*deployment]time.Time{}, ended: map[string]InstanceTime{}}
}

// begin counts d from now on.
func (c *instanceClock) begin(d *deployment, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running[d] = now
}

// end stops counting d, if it was counted.
func (c *instanceClock) end(d *deployment, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	since, ok := c.running[d]
	if !ok {
		return
	}
	delete(c.running, d)
	c.add(d, now.Sub(since))
}

// add counts ran for d's deployment. c.mu must be held.
func (c *instanceClock) add(d *deployment, ran time.Duration) {
	t := c.ended[d.app.ID]
	t.Duration += ran
	t.MemoryMB = d.app.Limits.MemoryMB
	c.ended[d.app.ID] = t
}

// take returns the time counted since the last take, by deployment id, and starts again from
// now: what a meter adds to its totals.
func (c *instanceClock) take(now time.Time) map[string]InstanceTime {
	c.mu.Lock()
	defer c.mu.Unlock()
	for d, since := range c.running {
		c.add(d, now.Sub(since))
		c.running[d] = now
	}
	taken := c.ended
	c.ended = map[string]InstanceTime{}
	return taken
}

// TakeInstanceTime returns how long instances ran since the last call, by deployment id,
// counting those still running up to now.
func (m *Manager) TakeInstanceTime() map[string]InstanceTime {
	return m.clock.take(time.Now())
}
