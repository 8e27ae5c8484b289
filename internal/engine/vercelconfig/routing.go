package vercelconfig

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// Rewrite serves Destination for requests whose path matches Source (a path-to-regexp pattern).
type Rewrite struct {
	Source      string      `json:"source"`
	Destination string      `json:"destination"`
	StatusCode  int64       `json:"statusCode,omitempty"`
	Has         []Condition `json:"has,omitempty"`
	Missing     []Condition `json:"missing,omitempty"`
}

// Redirect answers requests whose path matches Source with a redirect to Destination.
type Redirect struct {
	Source      string      `json:"source"`
	Destination string      `json:"destination"`
	Permanent   *bool       `json:"permanent,omitempty"`  // 308 when true, 307 when false (the default)
	StatusCode  int64       `json:"statusCode,omitempty"` // instead of permanent
	Has         []Condition `json:"has,omitempty"`
	Missing     []Condition `json:"missing,omitempty"`
}

// HeaderRule adds Headers to responses for paths that match Source.
type HeaderRule struct {
	Source  string      `json:"source"`
	Headers []Header    `json:"headers"`
	Has     []Condition `json:"has,omitempty"`
	Missing []Condition `json:"missing,omitempty"`
}

// Header is one response header.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Condition is one entry of has or missing: a request element that must (not) be there.
type Condition struct {
	Type  string          `json:"type"`            // host, header, cookie or query
	Key   string          `json:"key,omitempty"`   // the header, cookie or query name
	Value json.RawMessage `json:"value,omitempty"` // a regular expression, or an object of operators (eq, pre, ...)
}

// Route is one entry of the legacy routes: a regular expression on the path (Src), or a phase marker (Handle).
type Route struct {
	Handle        string            `json:"handle,omitempty"` // filesystem, hit, miss, rewrite, error or resource
	Src           string            `json:"src,omitempty"`
	Dest          string            `json:"dest,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Methods       []string          `json:"methods,omitempty"`
	Status        int64             `json:"status,omitempty"`
	Continue      bool              `json:"continue,omitempty"`
	Check         bool              `json:"check,omitempty"`
	CaseSensitive bool              `json:"caseSensitive,omitempty"`
	Has           []Condition       `json:"has,omitempty"`
	Missing       []Condition       `json:"missing,omitempty"`
}

// Limits of the routing properties.
const (
	maxHeadersPerRule  = 1024
	maxRouteHeaders    = 100
	maxHeaderValue     = 32768
	maxHeaderName      = 256
	maxRouteMethods    = 10
	maxMethodLength    = 32
	maxConditionTarget = 4096
)

var redirectStatusCodes = []int64{301, 302, 303, 307, 308}

var routeHandles = []string{"error", "filesystem", "hit", "miss", "resource", "rewrite"}

// headerName is an HTTP header field name (RFC 9110 token).
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func parseRewrites(v value) ([]Rewrite, error) {
	var rewrites []Rewrite
	err := v.eachObject(maxRoutingRules, []string{"source", "destination", "statusCode", "has", "missing"}, []string{"source", "destination"},
		func(item value, obj map[string]any) (err error) {
			var r Rewrite
			if r.Source, err = pathPattern(item.field(obj, "source"), false); err != nil {
				return err
			}
			if r.Destination, err = destination(item.field(obj, "destination")); err != nil {
				return err
			}
			if _, ok := obj["statusCode"]; ok {
				if r.StatusCode, err = item.field(obj, "statusCode").integer(100, 999, ""); err != nil {
					return err
				}
			}
			if r.Has, r.Missing, err = conditions(item, obj); err != nil {
				return err
			}
			rewrites = append(rewrites, r)
			return nil
		})
	return rewrites, err
}

func parseRedirects(v value) ([]Redirect, error) {
	var redirects []Redirect
	err := v.eachObject(maxRoutingRules, []string{"source", "destination", "permanent", "statusCode", "has", "missing"}, []string{"source", "destination"},
		func(item value, obj map[string]any) (err error) {
			var r Redirect
			if r.Source, err = pathPattern(item.field(obj, "source"), true); err != nil {
				return err
			}
			if r.Destination, err = destination(item.field(obj, "destination")); err != nil {
				return err
			}
			_, hasPermanent := obj["permanent"]
			_, hasStatus := obj["statusCode"]
			if hasPermanent && hasStatus {
				return item.fail("sets both permanent and statusCode: use one of them (permanent: true is 308, false is 307)")
			}
			if hasPermanent {
				permanent, err := item.field(obj, "permanent").boolean()
				if err != nil {
					return err
				}
				r.Permanent = &permanent
			}
			if hasStatus {
				status := item.field(obj, "statusCode")
				if r.StatusCode, err = status.integer(100, 999, ""); err != nil || !slices.Contains(redirectStatusCodes, r.StatusCode) {
					return status.fail("must be a redirect status: 301, 302, 303, 307 or 308, not %s", describe(status.raw))
				}
			}
			if r.Has, r.Missing, err = conditions(item, obj); err != nil {
				return err
			}
			redirects = append(redirects, r)
			return nil
		})
	return redirects, err
}

func parseHeaderRules(v value) ([]HeaderRule, error) {
	var rules []HeaderRule
	err := v.eachObject(maxRoutingRules, []string{"source", "headers", "has", "missing"}, []string{"source", "headers"},
		func(item value, obj map[string]any) (err error) {
			var rule HeaderRule
			if rule.Source, err = pathPattern(item.field(obj, "source"), false); err != nil {
				return err
			}
			err = item.field(obj, "headers").eachObject(maxHeadersPerRule, []string{"key", "value"}, []string{"key", "value"},
				func(entry value, pair map[string]any) error {
					key, err := headerKey(entry.field(pair, "key"), maxPatternLength)
					if err != nil {
						return err
					}
					value, err := headerValue(entry.field(pair, "value"))
					if err != nil {
						return err
					}
					rule.Headers = append(rule.Headers, Header{Key: key, Value: value})
					return nil
				})
			if err != nil {
				return err
			}
			if rule.Has, rule.Missing, err = conditions(item, obj); err != nil {
				return err
			}
			rules = append(rules, rule)
			return nil
		})
	return rules, err
}

func parseRoutes(v value) ([]Route, error) {
	items, err := v.array(maxRoutingRules)
	if err != nil {
		return nil, err
	}
	routes := make([]Route, len(items))
	for i, raw := range items {
		item := v.item(i, raw)
		obj, err := item.object()
		if err != nil {
			return nil, err
		}
		if _, ok := obj["handle"]; ok {
			if err := item.onlyKeys(obj, "handle"); err != nil {
				return nil, item.fail("has handle and other properties: a handle entry holds handle alone")
			}
			handle, err := item.field(obj, "handle").text(1, 32)
			if err != nil || !slices.Contains(routeHandles, handle) {
				return nil, item.field(obj, "handle").fail("must be one of %s, not %s", strings.Join(routeHandles, ", "), describe(obj["handle"]))
			}
			routes[i].Handle = handle
			continue
		}
		if err := parseRoute(item, obj, &routes[i]); err != nil {
			return nil, err
		}
	}
	return routes, nil
}

func parseRoute(item value, obj map[string]any, r *Route) error {
	err := item.onlyKeys(obj, "src", "source", "dest", "destination", "headers", "methods", "status", "statusCode",
		"continue", "check", "caseSensitive", "has", "missing")
	if err != nil {
		return err
	}
	srcKey := alias(obj, "src", "source")
	if srcKey == "" {
		return item.fail("lacks src: every route (but a handle) needs src, a regular expression on the path")
	}
	src := item.field(obj, srcKey)
	if r.Src, err = src.text(1, maxPatternLength); err != nil {
		return err
	}
	// The edge matches routes with Go's regular expressions (RE2).
	if _, compileErr := regexp.Compile(r.Src); compileErr != nil {
		return src.fail("is not a regular expression ferry can match (%v): look-ahead, look-behind and back-references are not supported; rewrite it without them",
			strings.TrimPrefix(compileErr.Error(), "error parsing regexp: "))
	}
	if key := alias(obj, "dest", "destination"); key != "" {
		if r.Dest, err = item.field(obj, key).text(1, maxPatternLength); err != nil {
			return err
		}
	}
	if key := alias(obj, "status", "statusCode"); key != "" {
		if r.Status, err = item.field(obj, key).integer(100, 999, ""); err != nil {
			return err
		}
	}
	for key, target := range map[string]*bool{"continue": &r.Continue, "check": &r.Check, "caseSensitive": &r.CaseSensitive} {
		if _, ok := obj[key]; ok {
			if *target, err = item.field(obj, key).boolean(); err != nil {
				return err
			}
		}
	}
	if _, ok := obj["headers"]; ok {
		if r.Headers, err = routeHeaders(item.field(obj, "headers")); err != nil {
			return err
		}
	}
	if _, ok := obj["methods"]; ok {
		list := item.field(obj, "methods")
		methods, err := list.array(maxRouteMethods)
		if err != nil {
			return err
		}
		for j, raw := range methods {
			method, err := list.item(j, raw).text(1, maxMethodLength)
			if err != nil {
				return err
			}
			r.Methods = append(r.Methods, strings.ToUpper(method))
		}
	}
	r.Has, r.Missing, err = conditions(item, obj)
	return err
}

// alias is whichever of two names for the same property obj uses, or "".
func alias(obj map[string]any, name, other string) string {
	if _, ok := obj[name]; ok {
		return name
	}
	if _, ok := obj[other]; ok {
		return other
	}
	return ""
}

func routeHeaders(v value) (map[string]string, error) {
	obj, err := v.object()
	if err != nil {
		return nil, err
	}
	if len(obj) == 0 || len(obj) > maxRouteHeaders {
		return nil, v.fail("must have from 1 to %d headers, not %d", maxRouteHeaders, len(obj))
	}
	headers := make(map[string]string, len(obj))
	for _, key := range sortedKeys(obj) {
		if _, err := headerKey(value{path: v.path, raw: key}, maxHeaderName); err != nil {
			return nil, err
		}
		if headers[key], err = headerValue(v.entry(key, obj[key])); err != nil {
			return nil, err
		}
	}
	return headers, nil
}

func headerKey(v value, maxLen int) (string, error) {
	key, err := v.text(1, maxLen)
	if err != nil {
		return "", err
	}
	if !headerName.MatchString(key) {
		return "", v.fail("has the header name %q, which HTTP does not allow: use letters, digits and - only", key)
	}
	return key, nil
}

func headerValue(v value) (string, error) {
	text, err := v.text(0, maxHeaderValue)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(text, "\r\n\x00") {
		return "", v.fail("contains a line break or NUL, which a header value cannot hold")
	}
	return text, nil
}

// pathPattern checks a source: a path pattern starting with "/" (or, for a redirect, a full URL).
func pathPattern(v value, urlAllowed bool) (string, error) {
	pattern, err := v.text(1, maxPatternLength)
	if err != nil {
		return "", err
	}
	isURL := strings.HasPrefix(pattern, "https://") || strings.HasPrefix(pattern, "http://")
	if !strings.HasPrefix(pattern, "/") && (!urlAllowed || !isURL) {
		return "", v.fail("is %q: a source is a path pattern starting with \"/\", such as \"/blog/:slug\" or \"/(.*)\"", pattern)
	}
	if strings.Count(pattern, "(") != strings.Count(pattern, ")") {
		return "", v.fail("is %q, whose parentheses do not pair up: close every group", pattern)
	}
	return pattern, nil
}

// destination is a path starting with "/" or an absolute http(s) URL.
func destination(v value) (string, error) {
	dest, err := v.text(1, maxPatternLength)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(dest, "/") && !strings.HasPrefix(dest, "https://") && !strings.HasPrefix(dest, "http://") {
		return "", v.fail("is %q: a destination is a path starting with \"/\" (such as \"/api/index\") or an http(s) URL", dest)
	}
	return dest, nil
}

var conditionTypes = []string{"header", "cookie", "host", "query"}

var conditionOperators = []string{"eq", "neq", "inc", "ninc", "pre", "suf", "re", "gt", "gte", "lt", "lte"}

// conditions reads the has and missing lists of a rule.
func conditions(rule value, obj map[string]any) (has, missing []Condition, err error) {
	if _, ok := obj["has"]; ok {
		if has, err = conditionList(rule.field(obj, "has")); err != nil {
			return nil, nil, err
		}
	}
	if _, ok := obj["missing"]; ok {
		if missing, err = conditionList(rule.field(obj, "missing")); err != nil {
			return nil, nil, err
		}
	}
	return has, missing, nil
}

func conditionList(v value) ([]Condition, error) {
	var out []Condition
	err := v.eachObject(maxConditions, []string{"type", "key", "value"}, []string{"type"}, func(item value, obj map[string]any) (err error) {
		var c Condition
		kind := item.field(obj, "type")
		if c.Type, err = kind.text(1, 16); err != nil || !slices.Contains(conditionTypes, c.Type) {
			return kind.fail("must be one of %s, not %s", strings.Join(conditionTypes, ", "), describe(kind.raw))
		}
		if c.Type == "host" {
			if _, ok := obj["key"]; ok {
				return item.fail("has a key, but a host condition matches the host itself: remove key")
			}
			if err := item.require(obj, "value"); err != nil {
				return err
			}
		} else {
			if err := item.require(obj, "key"); err != nil {
				return err
			}
			if c.Key, err = item.field(obj, "key").text(1, maxConditionTarget); err != nil {
				return err
			}
		}
		if _, ok := obj["value"]; ok {
			if c.Value, err = conditionValue(item.field(obj, "value")); err != nil {
				return err
			}
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// conditionValue is a regular expression, or an object of operators such as {"eq": "x"}.
func conditionValue(v value) (json.RawMessage, error) {
	switch raw := v.raw.(type) {
	case string:
		if len(raw) > maxConditionTarget {
			return nil, v.fail("is %d characters long; Vercel allows at most %d", len(raw), maxConditionTarget)
		}
	case map[string]any:
		if len(raw) == 0 {
			return nil, v.fail("is an empty object: give at least one operator (%s)", strings.Join(conditionOperators, ", "))
		}
		if err := v.onlyKeys(raw, conditionOperators...); err != nil {
			return nil, err
		}
	default:
		return nil, v.fail("must be a string (a regular expression) or an object of operators, not %s", describe(v.raw))
	}
	data, err := json.Marshal(v.raw)
	if err != nil {
		return nil, v.fail("cannot be stored: %v", err)
	}
	return data, nil
}
