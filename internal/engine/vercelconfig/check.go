package vercelconfig

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/agext/levenshtein"
)

// Error is a vercel.json that ferry refuses: Key names the offending value as
// a JavaScript-style path (rewrites[0].source, functions["api/*.py"].memory).
type Error struct {
	File    string // "vercel.json"
	Key     string // "" for the file as a whole
	Problem string // what is wrong and how to fix it
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.File + ": " + e.Problem
	}
	return e.File + ": " + e.Key + " " + e.Problem
}

// value is one JSON value being checked, with the path that names it.
type value struct {
	path string
	raw  any // as decoded with UseNumber: map[string]any, []any, string, json.Number, bool or nil
}

func (v value) fail(format string, args ...any) *Error {
	return &Error{File: FileName, Key: v.path, Problem: fmt.Sprintf(format, args...)}
}

// field is the value of key in an object.
func (v value) field(obj map[string]any, key string) value {
	return value{path: join(v.path, key), raw: obj[key]}
}

// join is the path of key inside the object at path ("" for the top).
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (v value) item(i int, raw any) value {
	return value{path: fmt.Sprintf("%s[%d]", v.path, i), raw: raw}
}

// entry is the value of a key chosen by the user (a functions pattern).
func (v value) entry(key string, raw any) value {
	return value{path: v.path + "[" + strconv.Quote(key) + "]", raw: raw}
}

// describe shows a value in a message: its JSON, shortened.
func describe(raw any) string {
	switch raw.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return fmt.Sprint(raw)
	}
	if len(data) > 60 {
		return string(data[:57]) + "..."
	}
	return string(data)
}

func (v value) object() (map[string]any, error) {
	obj, ok := v.raw.(map[string]any)
	if !ok {
		return nil, v.fail("must be an object, not %s", describe(v.raw))
	}
	return obj, nil
}

func (v value) array(maxItems int) ([]any, error) {
	items, ok := v.raw.([]any)
	if !ok {
		return nil, v.fail("must be an array, not %s", describe(v.raw))
	}
	if len(items) > maxItems {
		return nil, v.fail("has %d entries; Vercel allows at most %d", len(items), maxItems)
	}
	return items, nil
}

// eachObject checks that v is an array of at most maxItems objects, each with only allowed
// keys and every required one, and hands each to read.
func (v value) eachObject(maxItems int, allowed, required []string, read func(item value, obj map[string]any) error) error {
	items, err := v.array(maxItems)
	if err != nil {
		return err
	}
	for i, raw := range items {
		item := v.item(i, raw)
		obj, err := item.object()
		if err == nil {
			err = item.onlyKeys(obj, allowed...)
		}
		if err == nil {
			err = item.require(obj, required...)
		}
		if err == nil {
			err = read(item, obj)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (v value) text(minLen, maxLen int) (string, error) {
	s, ok := v.raw.(string)
	if !ok {
		return "", v.fail("must be a string, not %s", describe(v.raw))
	}
	if len(s) < minLen {
		if minLen == 1 {
			return "", v.fail("must not be empty")
		}
		return "", v.fail("must be at least %d characters long, not %d", minLen, len(s))
	}
	if len(s) > maxLen {
		return "", v.fail("is %d characters long; Vercel allows at most %d", len(s), maxLen)
	}
	return s, nil
}

// optionalText is a string that may also be absent or null.
func (v value) optionalText(maxLen int) (*string, error) {
	if v.raw == nil {
		return nil, nil
	}
	if _, ok := v.raw.(string); !ok {
		return nil, v.fail("must be a string or null, not %s", describe(v.raw))
	}
	s, err := v.text(0, maxLen)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (v value) boolean() (bool, error) {
	b, ok := v.raw.(bool)
	if !ok {
		return false, v.fail("must be true or false, not %s", describe(v.raw))
	}
	return b, nil
}

// integer is a whole number in [minimum, maximum]; unit names what it counts, for the message.
func (v value) integer(minimum, maximum int64, unit string) (int64, error) {
	number, ok := v.raw.(json.Number)
	n, err := number.Int64()
	if !ok || err != nil || n < minimum || n > maximum {
		return 0, v.fail("must be a whole number from %d to %d%s, not %s", minimum, maximum, unit, describe(v.raw))
	}
	return n, nil
}

// onlyKeys refuses keys of obj that are not in allowed, suggesting the closest allowed one.
func (v value) onlyKeys(obj map[string]any, allowed ...string) error {
	for _, key := range sortedKeys(obj) {
		known := false
		for _, a := range allowed {
			known = known || key == a
		}
		if !known {
			return &Error{File: FileName, Key: join(v.path, key), Problem: "is not a property Vercel knows here" + suggestion(key, allowed) +
				"; allowed: " + strings.Join(allowed, ", ")}
		}
	}
	return nil
}

// require refuses an object that lacks one of keys.
func (v value) require(obj map[string]any, keys ...string) error {
	for _, key := range keys {
		if _, ok := obj[key]; !ok {
			return v.fail("lacks the required property %q", key)
		}
	}
	return nil
}

func sortedKeys(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for key := range obj {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

// suggestion is ` (did you mean "x"?)` for a key one or two edits from an allowed one.
func suggestion(key string, allowed []string) string {
	best, bestDistance := "", 3
	for _, a := range allowed {
		if d := levenshtein.Distance(strings.ToLower(key), strings.ToLower(a), nil); d < bestDistance {
			best, bestDistance = a, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
