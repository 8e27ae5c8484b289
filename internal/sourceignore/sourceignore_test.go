package sourceignore

import "testing"

func TestVercelignore(t *testing.T) {
	rules := New([]byte("# comment\n\nimage\nprivate.html\r\n*.log\n!keep.log\ndata/\n"))
	if rules.UsesGitignore() {
		t.Error("a .vercelignore must decide alone")
	}
	for rel, want := range map[string]bool{
		"image":             true, // a name matches at any depth
		"static/image":      true,
		"private.html":      true,
		"app.py":            false,
		"debug.log":         true,
		"keep.log":          false, // a later ! brings it back
		"data":              true,  // dir-only pattern
		"sub/data":          true,
		"requirements.txt":  false,
		"templates/a.html":  false,
		"private.html.orig": false,
	} {
		isDir := rel == "data" || rel == "sub/data" || rel == "image"
		if got := rules.Excluded(rel, isDir); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", rel, got, want)
		}
	}
	if rules.Excluded("data", false) {
		t.Error("data/ matches directories only, not a file named data")
	}
}

// TestVercelignoreAllowlist is Vercel's documented allowlist: ignore everything at the top,
// then bring back what is deployed.
func TestVercelignoreAllowlist(t *testing.T) {
	rules := New([]byte("/*\n!api\n!vercel.json\n!*.html\n"))
	for _, tc := range []struct {
		rel   string
		isDir bool
		want  bool
	}{
		{"api", true, false},
		{"api/index.py", false, false},
		{"vercel.json", false, false},
		{"index.html", false, false},
		{"secrets.txt", false, true},
		{"tests", true, true},
	} {
		if got := rules.Excluded(tc.rel, tc.isDir); got != tc.want {
			t.Errorf("Excluded(%q) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}

func TestGitignoreFilesByDirectory(t *testing.T) {
	rules := New(nil)
	if !rules.UsesGitignore() {
		t.Fatal("without a .vercelignore, .gitignore files decide")
	}
	rules.AddGitignore("", []byte(".env\n/build\n*.sqlite3\n"))
	rules.AddGitignore("api", []byte("fixtures/\n!local.sqlite3\n"))
	for _, tc := range []struct {
		rel   string
		isDir bool
		want  bool
	}{
		{".env", false, true},
		{"api/.env", false, true},
		{"build", true, true},
		{"api/build", true, false}, // /build is anchored to the top
		{"db.sqlite3", false, true},
		{"api/local.sqlite3", false, false}, // the deeper file wins
		{"local.sqlite3", false, true},      // but only below its directory
		{"api/fixtures", true, true},
		{"fixtures", true, false},
		{"app.py", false, false},
	} {
		if got := rules.Excluded(tc.rel, tc.isDir); got != tc.want {
			t.Errorf("Excluded(%q) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}

func TestAlwaysExcluded(t *testing.T) {
	// Even an ignore file that asks for them cannot bring these back.
	rules := New([]byte("!venv\n!*.pyc\n!.git\n"))
	for _, tc := range []struct {
		rel   string
		isDir bool
	}{
		{".git", true}, {"venv", true}, {"sub/.venv", true}, {"__pycache__", true}, {"node_modules", true},
		{".terraform", true}, {"a/b.pyc", false}, {"terraform.tfstate", false}, {".DS_Store", false},
		{"terraform.tfstate.backup", false}, {".terraform.lock.hcl", false},
	} {
		if !rules.Excluded(tc.rel, tc.isDir) {
			t.Errorf("%q must always be excluded", tc.rel)
		}
	}
	if rules.Excluded("venv", false) {
		t.Error("a file named venv is no virtual environment")
	}
	// A .gitignore added to rules led by a .vercelignore is ignored.
	rules.AddGitignore("", []byte("app.py\n"))
	if rules.Excluded("app.py", false) {
		t.Error(".gitignore must not apply next to a .vercelignore")
	}
}
