package vercelconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// Cron calls Path on the production deployment on Schedule.
type Cron struct {
	Path     string `json:"path"`
	Schedule string `json:"schedule"` // five fields: minute hour day-of-month month day-of-week, in UTC
}

// cronFields are the fields of a schedule, in order, with their ranges.
var cronFields = []struct {
	name     string
	min, max int
}{
	{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 6},
}

func parseCrons(v value) ([]Cron, error) {
	var crons []Cron
	err := v.eachObject(maxCrons, []string{"path", "schedule"}, []string{"path", "schedule"}, func(item value, obj map[string]any) (err error) {
		var c Cron
		path := item.field(obj, "path")
		if c.Path, err = path.text(1, 512); err != nil {
			return err
		}
		if !strings.HasPrefix(c.Path, "/") {
			return path.fail("is %q: a cron path starts with \"/\", such as \"/api/cron\"", c.Path)
		}
		schedule := item.field(obj, "schedule")
		if c.Schedule, err = schedule.text(9, 256); err != nil {
			return err
		}
		if problem := scheduleProblem(c.Schedule); problem != "" {
			return schedule.fail("is %q: %s. A schedule has five fields, minute hour day-of-month month day-of-week (UTC), such as \"0 5 * * *\"", c.Schedule, problem)
		}
		crons = append(crons, c)
		return nil
	})
	return crons, err
}

// scheduleProblem says what is wrong with a cron expression as Vercel accepts them
// (numbers, *, ranges, steps and lists; no names such as MON, no @daily), or "".
func scheduleProblem(schedule string) string {
	fields := strings.Fields(schedule)
	if len(fields) != len(cronFields) {
		return fmt.Sprintf("it has %d fields, not 5", len(fields))
	}
	for i, field := range fields {
		spec := cronFields[i]
		for _, part := range strings.Split(field, ",") {
			if !validCronPart(part, spec.min, spec.max) {
				return fmt.Sprintf("the %s field %q is not a number from %d to %d, *, a range (a-b) or a step (*/n)", spec.name, field, spec.min, spec.max)
			}
		}
	}
	return ""
}

func validCronPart(part string, lowest, highest int) bool {
	rangePart, step, hasStep := strings.Cut(part, "/")
	if hasStep {
		if n, err := strconv.Atoi(step); err != nil || n < 1 {
			return false
		}
	}
	if rangePart == "*" {
		return true
	}
	first, last, isRange := strings.Cut(rangePart, "-")
	inRange := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= lowest && n <= highest
	}
	from, ok := inRange(first)
	if !ok {
		return false
	}
	if !isRange {
		return true
	}
	to, ok := inRange(last)
	return ok && from <= to
}
