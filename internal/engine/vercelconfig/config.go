// Package vercelconfig reads and validates a project's vercel.json the way
// Vercel does: the same properties, types and limits, and an error that names
// the offending key. The parsed Config is stored in a deployment's run spec;
// the build applies its commands and function settings, the edge its routing.
package vercelconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// FileName is the file Vercel reads from a project's root directory.
const FileName = "vercel.json"

// Config is a validated vercel.json. Field names follow vercel.json's own.
type Config struct {
	BuildCommand    *string             `json:"buildCommand,omitempty"`   // nil: the project's build_command
	InstallCommand  *string             `json:"installCommand,omitempty"` // nil: the project's install_command
	OutputDirectory string              `json:"outputDirectory,omitempty"`
	CleanURLs       bool                `json:"cleanUrls,omitempty"`
	TrailingSlash   *bool               `json:"trailingSlash,omitempty"` // nil: paths are left as they come
	Rewrites        []Rewrite           `json:"rewrites,omitempty"`
	Redirects       []Redirect          `json:"redirects,omitempty"`
	Headers         []HeaderRule        `json:"headers,omitempty"`
	Routes          []Route             `json:"routes,omitempty"` // legacy; never together with the five above
	Functions       map[string]Function `json:"functions,omitempty"`
	Builds          []Build             `json:"builds,omitempty"` // legacy; never together with functions
	Crons           []Cron              `json:"crons,omitempty"`

	// Ignored lists the properties Vercel knows that ferry does not apply, for the build log.
	Ignored []string `json:"-"`
}

// Limits Vercel puts on vercel.json.
const (
	maxCommandLength = 256
	maxRoutingRules  = 2048
	maxPatternLength = 4096
	maxConditions    = 16
	maxFunctions     = 50
	maxBuilds        = 128
	maxCrons         = 100
	// MaxDurationLimit is the largest maxDuration, in seconds, and what "max" stands for.
	MaxDurationLimit = 1800
	MinMemoryMB      = 128
	MaxMemoryMB      = 10240
)

// ignoredProperties are vercel.json properties of Vercel's platform that have
// no meaning on ferry (regions, git integration, image optimization, ...).
var ignoredProperties = []string{
	"$schema", "alias", "build", "bunVersion", "devCommand", "env", "fluid", "framework",
	"functionFailoverRegions", "git", "github", "ignoreCommand", "images", "name", "public",
	"regions", "relatedProjects", "scope",
}

// appliedProperties are the ones ferry applies.
var appliedProperties = []string{
	"buildCommand", "builds", "cleanUrls", "crons", "functions", "headers", "installCommand",
	"outputDirectory", "redirects", "rewrites", "routes", "trailingSlash", "version",
}

// Parse reads a vercel.json. An error is an *Error.
func Parse(data []byte) (*Config, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var raw any
	if err := decoder.Decode(&raw); err != nil {
		return nil, syntaxError(data, err)
	}
	if _, err := decoder.Token(); err != io.EOF {
		return nil, &Error{File: FileName, Problem: "has more after its top-level object: a vercel.json holds exactly one JSON object"}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, &Error{File: FileName, Problem: fmt.Sprintf("must hold a JSON object ({ ... }), not %s", describe(raw))}
	}
	known := append(append([]string(nil), appliedProperties...), ignoredProperties...)
	for _, key := range sortedKeys(obj) {
		if !slices.Contains(known, key) {
			return nil, &Error{File: FileName, Key: key, Problem: "is not a vercel.json property" + suggestion(key, known) +
				"; ferry applies " + strings.Join(appliedProperties, ", ")}
		}
	}
	c := &Config{}
	for _, key := range sortedKeys(obj) {
		if err := c.parseProperty(value{path: key, raw: obj[key]}, key); err != nil {
			return nil, err
		}
	}
	if err := c.checkCombinations(obj); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) parseProperty(v value, key string) error {
	var err error
	switch key {
	case "version":
		if _, err = v.integer(2, 2, ""); err != nil {
			return v.fail("must be 2 (version 1 of vercel.json is no longer supported by Vercel), not %s", describe(v.raw))
		}
	case "buildCommand":
		c.BuildCommand, err = v.optionalText(maxCommandLength)
	case "installCommand":
		c.InstallCommand, err = v.optionalText(maxCommandLength)
	case "outputDirectory":
		c.OutputDirectory, err = outputDirectory(v)
	case "cleanUrls":
		c.CleanURLs, err = v.boolean()
	case "trailingSlash":
		var slash bool
		if slash, err = v.boolean(); err == nil {
			c.TrailingSlash = &slash
		}
	case "rewrites":
		c.Rewrites, err = parseRewrites(v)
	case "redirects":
		c.Redirects, err = parseRedirects(v)
	case "headers":
		c.Headers, err = parseHeaderRules(v)
	case "routes":
		c.Routes, err = parseRoutes(v)
	case "functions":
		c.Functions, err = parseFunctions(v)
	case "builds":
		c.Builds, err = parseBuilds(v)
	case "crons":
		c.Crons, err = parseCrons(v)
	default:
		c.Ignored = append(c.Ignored, key)
	}
	return err
}

// outputDirectory must stay inside the project.
func outputDirectory(v value) (string, error) {
	dir, err := v.optionalText(maxCommandLength)
	if err != nil || dir == nil {
		return "", err
	}
	if problem := relativePathProblem(*dir); problem != "" {
		return "", v.fail("%s", problem)
	}
	return strings.Trim(*dir, "/"), nil
}

// relativePathProblem says why p is not a path inside the project, or "".
func relativePathProblem(p string) string {
	if strings.HasPrefix(p, "/") {
		return fmt.Sprintf("is %q, an absolute path: give a folder relative to the root directory, such as \"public\"", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Sprintf("is %q, which leads outside the project: give a folder inside the root directory", p)
		}
	}
	return ""
}

// checkCombinations applies Vercel's rules on properties that exclude each other.
func (c *Config) checkCombinations(obj map[string]any) error {
	if _, hasRoutes := obj["routes"]; hasRoutes {
		for _, key := range []string{"rewrites", "redirects", "headers", "cleanUrls", "trailingSlash"} {
			if _, ok := obj[key]; ok {
				return &Error{File: FileName, Key: "routes", Problem: fmt.Sprintf(
					"cannot be used together with %s: if rewrites, redirects, headers, cleanUrls or trailingSlash are used, routes cannot be present (Vercel's rule). Move the routes into rewrites, redirects and headers, or drop %s", key, key)}
			}
		}
	}
	_, hasFunctions := obj["functions"]
	_, hasBuilds := obj["builds"]
	if hasFunctions && hasBuilds {
		return &Error{File: FileName, Key: "functions", Problem: "cannot be used together with builds (Vercel's rule): remove one of them. builds is the legacy way; with functions, the entrypoint is found by itself"}
	}
	return nil
}

// syntaxError says where a vercel.json is not valid JSON.
func syntaxError(data []byte, err error) *Error {
	var syntax *json.SyntaxError
	offset := int64(-1)
	if errors.As(err, &syntax) {
		offset = syntax.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		offset = int64(len(data))
	}
	where := ""
	if offset >= 0 {
		line, column := lineAndColumn(data, offset)
		where = fmt.Sprintf(" at line %d, column %d", line, column)
	}
	message := err.Error()
	if errors.Is(err, io.EOF) {
		message = "the file is empty"
	}
	return &Error{File: FileName, Problem: fmt.Sprintf("is not valid JSON%s: %s. Fix the syntax: vercel.json is plain JSON, without comments or trailing commas", where, strings.TrimPrefix(message, "json: "))}
}

// lineAndColumn converts a byte offset, as the JSON decoder reports it (just past the bad byte), to a 1-based position.
func lineAndColumn(data []byte, offset int64) (line, column int) {
	offset = min(offset, int64(len(data)))
	before := data[:max(offset-1, 0)]
	line = bytes.Count(before, []byte("\n")) + 1
	column = len(before) - bytes.LastIndexByte(before, '\n')
	return line, column
}
