package vercelconfig

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := Parse([]byte(text))
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return c
}

func TestParseEverythingFerryApplies(t *testing.T) {
	c := mustParse(t, `{
  "$schema": "https://openapi.vercel.sh/vercel.json",
  "version": 2,
  "buildCommand": "python build.py",
  "installCommand": "",
  "outputDirectory": "public/",
  "cleanUrls": true,
  "trailingSlash": false,
  "rewrites": [{"source": "/(.*)", "destination": "/api/index"}],
  "redirects": [
    {"source": "/old", "destination": "/new", "permanent": true},
    {"source": "/temp", "destination": "https://example.com/", "statusCode": 302,
     "has": [{"type": "query", "key": "ref", "value": {"eq": "x"}}]}
  ],
  "headers": [{"source": "/api/(.*)", "headers": [{"key": "Cache-Control", "value": "no-store"}]}],
  "functions": {"api/*.py": {"memory": 1024, "maxDuration": 30, "includeFiles": "data/**"}, "app.py": {"maxDuration": "max"}},
  "crons": [{"path": "/api/cron", "schedule": "*/10 0-6 * * 1,3,5"}],
  "regions": ["iad1"]
}`)
	install, build := "", "python build.py"
	permanent := true
	slash := false
	want := &Config{
		BuildCommand:    &build,
		InstallCommand:  &install,
		OutputDirectory: "public",
		CleanURLs:       true,
		TrailingSlash:   &slash,
		Rewrites:        []Rewrite{{Source: "/(.*)", Destination: "/api/index"}},
		Redirects: []Redirect{
			{Source: "/old", Destination: "/new", Permanent: &permanent},
			{Source: "/temp", Destination: "https://example.com/", StatusCode: 302,
				Has: []Condition{{Type: "query", Key: "ref", Value: json.RawMessage(`{"eq":"x"}`)}}},
		},
		Headers: []HeaderRule{{Source: "/api/(.*)", Headers: []Header{{Key: "Cache-Control", Value: "no-store"}}}},
		Functions: map[string]Function{
			"api/*.py": {Memory: 1024, MaxDuration: 30, IncludeFiles: "data/**"},
			"app.py":   {MaxDuration: MaxDurationLimit},
		},
		Crons:   []Cron{{Path: "/api/cron", Schedule: "*/10 0-6 * * 1,3,5"}},
		Ignored: []string{"$schema", "regions"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", c, want)
	}
}

func TestLegacyBuildsAndRoutes(t *testing.T) {
	c := mustParse(t, `{
  "builds": [{"src": "api/index.py", "use": "@vercel/python"}, {"src": "/static/**", "use": "@vercel/static@1.0.0"}],
  "routes": [{"handle": "filesystem"}, {"src": "/(.*)", "dest": "api/index.py", "methods": ["get", "POST"], "headers": {"X-Frame-Options": "DENY"}}]
}`)
	if len(c.Builds) != 2 || c.Builds[0].Builder() != PythonBuilder || c.Builds[1].Src != "static/**" || c.Builds[1].Builder() != StaticBuilder {
		t.Errorf("builds = %+v", c.Builds)
	}
	wantRoute := Route{Src: "/(.*)", Dest: "api/index.py", Methods: []string{"GET", "POST"}, Headers: map[string]string{"X-Frame-Options": "DENY"}}
	if len(c.Routes) != 2 || c.Routes[0].Handle != "filesystem" || !reflect.DeepEqual(c.Routes[1], wantRoute) {
		t.Errorf("routes = %+v", c.Routes)
	}
}

func TestBadConfigNamesTheKey(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		wantKey    string
		wants      []string
	}{
		{"syntax", "{\n  \"rewrites\": [\n    {\"source\": \"/a\",}\n  ]\n}", "", []string{"not valid JSON at line 3", "without comments or trailing commas"}},
		{"empty", "", "", []string{"the file is empty"}},
		{"not an object", `[1]`, "", []string{"must hold a JSON object"}},
		{"trailing data", `{} {}`, "", []string{"exactly one JSON object"}},
		{"unknown key", `{"rewrite": []}`, "rewrite", []string{`did you mean "rewrites"?`}},
		{"wrong type", `{"cleanUrls": "yes"}`, "cleanUrls", []string{`must be true or false, not "yes"`}},
		{"command too long", `{"buildCommand": "` + strings.Repeat("x", 257) + `"}`, "buildCommand", []string{"at most 256"}},
		{"command type", `{"installCommand": 1}`, "installCommand", []string{"must be a string or null, not 1"}},
		{"output outside", `{"outputDirectory": "../x"}`, "outputDirectory", []string{"leads outside the project"}},
		{"version 1", `{"version": 1}`, "version", []string{"must be 2"}},
		{"rewrite without destination", `{"rewrites": [{"source": "/a"}]}`, "rewrites[0]", []string{`required property "destination"`}},
		{"rewrite source", `{"rewrites": [{"source": "a", "destination": "/b"}]}`, "rewrites[0].source", []string{`starting with "/"`}},
		{"rewrite parentheses", `{"rewrites": [{"source": "/(a", "destination": "/b"}]}`, "rewrites[0].source", []string{"parentheses"}},
		{"rewrite destination", `{"rewrites": [{"source": "/a", "destination": "b"}]}`, "rewrites[0].destination", []string{"http(s) URL"}},
		{"too many rewrites", `{"rewrites": [` + strings.TrimSuffix(strings.Repeat(`{"source":"/a","destination":"/b"},`, 2049), ",") + `]}`, "rewrites", []string{"2049 entries", "at most 2048"}},
		{"redirect both", `{"redirects": [{"source": "/a", "destination": "/b", "permanent": true, "statusCode": 301}]}`, "redirects[0]", []string{"both permanent and statusCode"}},
		{"redirect status", `{"redirects": [{"source": "/a", "destination": "/b", "statusCode": 200}]}`, "redirects[0].statusCode", []string{"301, 302, 303, 307 or 308"}},
		{"header name", `{"headers": [{"source": "/a", "headers": [{"key": "Bad Header", "value": "x"}]}]}`, "headers[0].headers[0].key", []string{"HTTP does not allow"}},
		{"header value", `{"headers": [{"source": "/a", "headers": [{"key": "X", "value": "a\nb"}]}]}`, "headers[0].headers[0].value", []string{"line break"}},
		{"condition type", `{"rewrites": [{"source": "/a", "destination": "/b", "has": [{"type": "ip", "value": "x"}]}]}`, "rewrites[0].has[0].type", []string{"header, cookie, host, query"}},
		{"condition key", `{"rewrites": [{"source": "/a", "destination": "/b", "has": [{"type": "header"}]}]}`, "rewrites[0].has[0]", []string{`required property "key"`}},
		{"condition operator", `{"rewrites": [{"source": "/a", "destination": "/b", "has": [{"type": "host", "value": {"equals": "x"}}]}]}`, "rewrites[0].has[0].value.equals", []string{"allowed: eq"}},
		{"routes with rewrites", `{"routes": [{"src": "/a"}], "rewrites": []}`, "routes", []string{"cannot be used together with rewrites"}},
		{"route regexp", `{"routes": [{"src": "/(?!api)"}]}`, "routes[0].src", []string{"look-ahead"}},
		{"route handle", `{"routes": [{"handle": "always"}]}`, "routes[0].handle", []string{"filesystem"}},
		{"route without src", `{"routes": [{"dest": "/a"}]}`, "routes[0]", []string{"lacks src"}},
		{"builds with functions", `{"builds": [{"src": "app.py", "use": "@vercel/python"}], "functions": {"app.py": {"memory": 512}}}`, "functions", []string{"cannot be used together with builds", "remove one of them"}},
		{"build of another language", `{"builds": [{"src": "index.js", "use": "@vercel/node"}]}`, "builds[0].use", []string{"Python apps", "@vercel/python"}},
		{"memory too large", `{"functions": {"api/*.py": {"memory": 20000}}}`, `functions["api/*.py"].memory`, []string{"from 128 to 10240"}},
		{"memory as text", `{"functions": {"api/*.py": {"memory": "1GB"}}}`, `functions["api/*.py"].memory`, []string{`not "1GB"`}},
		{"max duration", `{"functions": {"api/*.py": {"maxDuration": 0}}}`, `functions["api/*.py"].maxDuration`, []string{"from 1 to 1800", `"max"`}},
		{"function property", `{"functions": {"api/*.py": {"timeout": 10}}}`, `functions["api/*.py"].timeout`, []string{"not a property Vercel knows"}},
		{"function pattern", `{"functions": {"api/[.py": {}}}`, `functions["api/[.py"]`, []string{"not a valid glob"}},
		{"function runtime", `{"functions": {"api/*.js": {"runtime": "nodejs20.x"}}}`, `functions["api/*.js"].runtime`, []string{"Python functions only"}},
		{"no functions", `{"functions": {}}`, "functions", []string{"from 1 to 50"}},
		{"cron path", `{"crons": [{"path": "api/cron", "schedule": "0 5 * * *"}]}`, "crons[0].path", []string{`starts with "/"`}},
		{"cron fields", `{"crons": [{"path": "/a", "schedule": "0 5 * * * *"}]}`, "crons[0].schedule", []string{"6 fields"}},
		{"cron names", `{"crons": [{"path": "/a", "schedule": "0 5 * * MON"}]}`, "crons[0].schedule", []string{"day of week field"}},
		{"cron range", `{"crons": [{"path": "/a", "schedule": "0 24 * * *"}]}`, "crons[0].schedule", []string{"hour field", "0 to 23"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.text))
			var configErr *Error
			if !errors.As(err, &configErr) {
				t.Fatalf("Parse = %+v, %v; want an *Error", c, err)
			}
			if configErr.Key != tt.wantKey {
				t.Errorf("key = %q, want %q (%v)", configErr.Key, tt.wantKey, err)
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if !strings.HasPrefix(err.Error(), "vercel.json") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	for _, tt := range []struct {
		pattern, path string
		want          bool
	}{
		{"api/*.py", "api/index.py", true},
		{"api/*.py", "api/v1/users.py", false},
		{"api/**/*.py", "api/v1/users.py", true},
		{"./app.py", "app.py", true},
		{"app.py", "src/app.py", false},
	} {
		if got := Matches(tt.pattern, tt.path); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestConfigRoundTripsThroughJSON(t *testing.T) {
	c := mustParse(t, `{"rewrites": [{"source": "/(.*)", "destination": "/api/index", "missing": [{"type": "cookie", "key": "s"}]}], "functions": {"api/index.py": {"memory": 512}}}`)
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Errorf("after a round trip: %+v, want %+v", back, *c)
	}
}
