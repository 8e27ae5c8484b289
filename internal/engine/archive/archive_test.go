package archive

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestAddFile(t *testing.T) {
	dir := t.TempDir()
	file, sub, link := filepath.Join(dir, "app.py"), filepath.Join(dir, "src"), filepath.Join(dir, "current")
	if err := os.WriteFile(file, []byte("print('hi')\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(sub, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("src", link); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(file, 4242, 4343); err != nil {
		t.Skipf("cannot give a file another owner here: %v", err)
	}
	for _, owners := range []Owners{KeepOwners, DropOwners} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for p, name := range map[string]string{file: "app.py", sub: "src", link: "current"} {
			if err := AddFile(tw, p, name, owners); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(&buf)
		seen := map[string]*tar.Header{}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			seen[h.Name] = h
			if h.Name == "app.py" {
				if body, _ := io.ReadAll(tr); string(body) != "print('hi')\n" {
					t.Errorf("app.py holds %q", body)
				}
			}
		}
		f, d, l := seen["app.py"], seen["src/"], seen["current"]
		if f == nil || d == nil || l == nil {
			t.Fatalf("entries %v: want app.py, src/ and current", seen)
		}
		if f.Mode&0o777 != 0o755 || d.Typeflag != tar.TypeDir || d.Mode&0o777 != 0o750 || l.Typeflag != tar.TypeSymlink || l.Linkname != "src" {
			t.Errorf("modes or kinds lost: %+v %+v %+v", f, d, l)
		}
		wantUID := 0
		if owners == KeepOwners {
			wantUID = 4242
		}
		if f.Uid != wantUID || f.Uname != "" {
			t.Errorf("owners %v: uid %d name %q, want %d and no name", owners, f.Uid, f.Uname, wantUID)
		}
	}
}
