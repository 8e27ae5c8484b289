package deploy

import (
	"math"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestCheckFilesSizesCannotOverflow(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	files := []api.File{
		{Path: "a", Digest: digest, Size: math.MaxInt64},
		{Path: "b", Digest: digest, Size: math.MaxInt64},
	}
	_, err := checkFiles(files, Limits{})
	if e, ok := err.(*InputError); !ok || e.Code != api.CodeTooLarge {
		t.Fatalf("sizes that overflow int64: %v", err)
	}
	if _, err := checkFiles([]api.File{{Path: "a", Digest: digest, Size: DefaultMaxBytes}}, Limits{}); err != nil {
		t.Errorf("exactly the default limit: %v", err)
	}
	if _, err := checkFiles([]api.File{{Path: "a", Digest: digest, Size: DefaultMaxBytes + 1}}, Limits{}); err == nil {
		t.Error("one byte over the default limit accepted")
	}
}

func TestPathProblem(t *testing.T) {
	for p, want := range map[string]string{
		"app.py":                            "",
		"pkg/" + strings.Repeat("n", 255):   "",
		"pkg/" + strings.Repeat("n", 256):   "at most 255 bytes",
		strings.Repeat("n", 256) + "/x.py":  "at most 255 bytes",
		"a\x00b":                            "NUL byte",
		"a//b":                              "not a clean relative path",
		"a/":                                "not a clean relative path",
		strings.Repeat("d/", 2048) + "x.py": "at most 4095",
	} {
		got := pathProblem(p)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%.40q: %q, want %q", p, got, want)
		}
	}
}
