package builder

import (
	"fmt"
	"regexp"
	"strings"
)

const pyprojectFile = "pyproject.toml"

// pyproject is what the build reads of a pyproject.toml.
type pyproject struct {
	Project     *pyprojectProject `toml:"project"`
	BuildSystem *struct {
		Backend string `toml:"build-backend"`
	} `toml:"build-system"`
	Tool struct {
		Vercel map[string]any `toml:"vercel"`
		Poetry *struct {
			Dependencies map[string]any `toml:"dependencies"`
		} `toml:"poetry"`
	} `toml:"tool"`
}

type pyprojectProject struct {
	Name           string         `toml:"name"`
	RequiresPython string         `toml:"requires-python"`
	Dependencies   []string       `toml:"dependencies"`
	Scripts        map[string]any `toml:"scripts"`
}

// readPyproject reads dir's pyproject.toml; nil when there is none.
func readPyproject(dir string) (*pyproject, error) {
	var p pyproject
	found, err := decodeTOMLFile(dir, pyprojectFile, &p,
		"Fix that value (the keys ferry reads are [project] name, requires-python, dependencies and scripts, and [tool.vercel] entrypoint)")
	if !found {
		return nil, err
	}
	return &p, nil
}

// isPackage reports whether the project is a package to install (it declares how to build
// itself), as uv decides for `uv sync`.
func (p *pyproject) isPackage() bool {
	return p != nil && p.Project != nil && p.BuildSystem != nil
}

// moduleAttribute is "module:attribute" as Vercel reads it in [tool.vercel] entrypoint and
// [project.scripts] app: a dotted module, a colon, a name.
var moduleAttribute = regexp.MustCompile(`^\s*([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_]\w*)\s*$`)

// declaredEntrypoint is an app the project names itself: [tool.vercel] entrypoint, or else
// (for compatibility, as Vercel) [project.scripts] app. where says which, for messages.
type declaredEntrypoint struct {
	module, attribute string
	where             string
}

// vercelEntrypoint is [tool.vercel] entrypoint, nil when unset. A value that cannot be used is
// an error, as on Vercel: building another app than the one declared would be worse.
func (p *pyproject) vercelEntrypoint() (*declaredEntrypoint, error) {
	if p == nil {
		return nil, nil
	}
	raw, ok := p.Tool.Vercel["entrypoint"]
	if !ok {
		return nil, nil
	}
	text, isText := raw.(string)
	match := moduleAttribute.FindStringSubmatch(text)
	if !isText || match == nil {
		return nil, failure(`[tool.vercel] entrypoint in %s is %s; it must be a string in "module:object" form, such as "main:app"`, pyprojectFile, describeTOML(raw))
	}
	return &declaredEntrypoint{module: match[1], attribute: match[2], where: "[tool.vercel] entrypoint in " + pyprojectFile}, nil
}

// scriptsEntrypoint is [project.scripts] app when it has the "module:attribute" form; nil otherwise.
func (p *pyproject) scriptsEntrypoint() *declaredEntrypoint {
	if p == nil || p.Project == nil {
		return nil
	}
	text, _ := p.Project.Scripts["app"].(string)
	match := moduleAttribute.FindStringSubmatch(text)
	if match == nil {
		return nil
	}
	return &declaredEntrypoint{module: match[1], attribute: match[2], where: "[project.scripts] app in " + pyprojectFile}
}

// ignoredVercelTools are [tool.vercel] keys of Vercel's platform that ferry does not apply.
func (p *pyproject) ignoredVercelTools() []string {
	if p == nil {
		return nil
	}
	var keys []string
	for key := range p.Tool.Vercel {
		if key != "entrypoint" {
			keys = append(keys, key)
		}
	}
	return keys
}

// moduleFiles are where module is found relative to the root directory, as Vercel looks for it.
func moduleFiles(module string) []string {
	base := strings.ReplaceAll(module, ".", "/")
	return []string{base + ".py", base + "/__init__.py"}
}

func describeTOML(raw any) string {
	if text, ok := raw.(string); ok {
		return fmt.Sprintf("%q", text)
	}
	return fmt.Sprintf("a %T", raw)
}
