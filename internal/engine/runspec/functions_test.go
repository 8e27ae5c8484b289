package runspec

import "testing"

func TestFunctionForPicksTheLongestRoute(t *testing.T) {
	spec := Spec{Functions: []Function{
		{File: "api/index.py", Route: "/api"},
		{File: "api/users.py", Route: "/api/users"},
		{File: "api/v1/orders.py", Route: "/api/v1/orders"},
	}}
	for path, want := range map[string]string{
		"/api":             "api/index.py",
		"/api/":            "api/index.py",
		"/api/other":       "api/index.py",
		"/api/users":       "api/users.py",
		"/api/users/42":    "api/users.py",
		"/api/users.py":    "api/users.py",
		"/api/usersx":      "api/index.py",
		"/api/v1/orders/7": "api/v1/orders.py",
	} {
		if f := spec.FunctionFor(path); f == nil || f.File != want {
			t.Errorf("FunctionFor(%q) = %+v, want %s", path, f, want)
		}
	}
	for _, path := range []string{"/", "/apix", "/other"} {
		if f := spec.FunctionFor(path); f != nil {
			t.Errorf("FunctionFor(%q) = %+v, want none", path, f)
		}
	}
}
