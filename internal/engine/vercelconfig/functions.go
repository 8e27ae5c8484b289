package vercelconfig

import (
	"encoding/json"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Function is the settings of the functions whose files match a pattern of functions.
type Function struct {
	Memory       int64  `json:"memory,omitempty"`       // megabytes each instance may use
	MaxDuration  int64  `json:"maxDuration,omitempty"`  // seconds a request may take; "max" is MaxDurationLimit
	IncludeFiles string `json:"includeFiles,omitempty"` // a glob of extra files the function reads
	ExcludeFiles string `json:"excludeFiles,omitempty"` // a glob of files it does not need
}

// Build is one entry of the legacy builds: the files matching Src built by the builder Use.
type Build struct {
	Src    string          `json:"src"`
	Use    string          `json:"use"`
	Config json.RawMessage `json:"config,omitempty"`
}

// Builders ferry runs for builds.
const (
	PythonBuilder = "@vercel/python"
	StaticBuilder = "@vercel/static"
)

// Builder is the builder's name without its version ("@vercel/python@4.1.0" -> "@vercel/python").
func (b Build) Builder() string {
	if at := strings.LastIndex(b.Use, "@"); at > 0 {
		return b.Use[:at]
	}
	return b.Use
}

// Matches reports whether the file at path (slash-separated, relative to the root directory) matches pattern.
func Matches(pattern, path string) bool {
	matched, err := doublestar.Match(strings.TrimPrefix(pattern, "./"), path)
	return err == nil && matched
}

// Properties of a function that belong to Vercel's platform: accepted, not applied.
var ignoredFunctionProperties = []string{
	"architecture", "experimentalTriggers", "functionFailoverRegions", "maxConcurrency", "regions", "supportsCancellation",
}

func parseFunctions(v value) (map[string]Function, error) {
	obj, err := v.object()
	if err != nil {
		return nil, err
	}
	if len(obj) == 0 || len(obj) > maxFunctions {
		return nil, v.fail("has %d patterns; Vercel allows from 1 to %d", len(obj), maxFunctions)
	}
	functions := make(map[string]Function, len(obj))
	for _, pattern := range sortedKeys(obj) {
		entry := v.entry(pattern, obj[pattern])
		if err := globPattern(entry, pattern); err != nil {
			return nil, err
		}
		settings, err := entry.object()
		if err == nil {
			err = entry.onlyKeys(settings, append([]string{"memory", "maxDuration", "includeFiles", "excludeFiles", "runtime"}, ignoredFunctionProperties...)...)
		}
		if err != nil {
			return nil, err
		}
		var f Function
		if _, ok := settings["memory"]; ok {
			if f.Memory, err = entry.field(settings, "memory").integer(MinMemoryMB, MaxMemoryMB, " (megabytes)"); err != nil {
				return nil, err
			}
		}
		if _, ok := settings["maxDuration"]; ok {
			if f.MaxDuration, err = maxDuration(entry.field(settings, "maxDuration")); err != nil {
				return nil, err
			}
		}
		for key, target := range map[string]*string{"includeFiles": &f.IncludeFiles, "excludeFiles": &f.ExcludeFiles} {
			if _, ok := settings[key]; !ok {
				continue
			}
			field := entry.field(settings, key)
			if *target, err = field.text(1, 256); err != nil {
				return nil, err
			}
			if err := globPattern(field, *target); err != nil {
				return nil, err
			}
		}
		if _, ok := settings["runtime"]; ok {
			runtime := entry.field(settings, "runtime")
			name, err := runtime.text(1, 256)
			if err != nil {
				return nil, err
			}
			if !strings.Contains(name, "python") {
				return nil, runtime.fail("is %q: ferry runs Python functions only; remove runtime (Python is the default) or set it to %q", name, PythonBuilder)
			}
		}
		functions[pattern] = f
	}
	return functions, nil
}

// maxDuration is a whole number of seconds from 1 to MaxDurationLimit, or "max".
func maxDuration(v value) (int64, error) {
	if v.raw == "max" {
		return MaxDurationLimit, nil
	}
	seconds, err := v.integer(1, MaxDurationLimit, " (seconds)")
	if err != nil {
		return 0, v.fail("must be a whole number of seconds from 1 to %d, or \"max\", not %s", MaxDurationLimit, describe(v.raw))
	}
	return seconds, nil
}

// globPattern refuses a pattern that is not a glob of paths inside the project.
func globPattern(v value, pattern string) error {
	if problem := relativePathProblem(pattern); problem != "" {
		return v.fail("%s", problem)
	}
	if !doublestar.ValidatePattern(pattern) {
		return v.fail("is %q, which is not a valid glob pattern (check its brackets and braces), such as \"api/*.py\" or \"api/**\"", pattern)
	}
	return nil
}

func parseBuilds(v value) ([]Build, error) {
	var builds []Build
	err := v.eachObject(maxBuilds, []string{"src", "use", "config"}, []string{"use"}, func(item value, obj map[string]any) (err error) {
		b := Build{Src: "**"}
		use := item.field(obj, "use")
		if b.Use, err = use.text(3, 256); err != nil {
			return err
		}
		if builder := b.Builder(); builder != PythonBuilder && builder != StaticBuilder {
			return use.fail("is %q: ferry builds Python apps (%s) and static files (%s) only; remove this build", b.Use, PythonBuilder, StaticBuilder)
		}
		if _, ok := obj["src"]; ok {
			src := item.field(obj, "src")
			if b.Src, err = src.text(1, maxPatternLength); err != nil {
				return err
			}
			b.Src = strings.TrimPrefix(b.Src, "/")
			if err := globPattern(src, b.Src); err != nil {
				return err
			}
		}
		if _, ok := obj["config"]; ok {
			config := item.field(obj, "config")
			if _, err := config.object(); err != nil {
				return err
			}
			if b.Config, err = json.Marshal(config.raw); err != nil {
				return config.fail("cannot be stored: %v", err)
			}
		}
		builds = append(builds, b)
		return nil
	})
	return builds, err
}
