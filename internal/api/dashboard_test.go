package api

import (
	"strings"
	"testing"
)

func TestTheDashboardsNameIsNoProjects(t *testing.T) {
	if problem := ProjectNameProblem(DashboardHostLabel); !strings.Contains(problem, "reserved") {
		t.Fatalf("project name %q: %q, want it reserved", DashboardHostLabel, problem)
	}
	if problem := ProjectNameProblem("ferry-shop"); problem != "" {
		t.Fatalf("project name ferry-shop: %q", problem)
	}
}
