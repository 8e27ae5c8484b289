package builder

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var macOSSystemPythons = []string{
	"/opt/homebrew/bin/python3",
	"/usr/local/bin/python3",
	"/Library/Frameworks/Python.framework/Versions/Current/bin/python3",
	"/Library/Developer/CommandLineTools/usr/bin/python3",
}

func TestMacOSPythonsPreferPyenvsGlobalVersion(t *testing.T) {
	home := t.TempDir()
	root := filepath.Join(home, ".pyenv")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "version"), []byte("3.12.4\n3.11.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := append([]string{filepath.Join(root, "versions", "3.12.4", "bin", "python3")}, macOSSystemPythons...)
	if got := macOSPythons(home, ""); !slices.Equal(got, want) {
		t.Errorf("with ~/.pyenv: %q\nwant %q", got, want)
	}
	// $PYENV_ROOT wins over ~/.pyenv.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "version"), []byte("3.13.1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := macOSPythons(home, other); got[0] != filepath.Join(other, "versions", "3.13.1", "bin", "python3") {
		t.Errorf("with PYENV_ROOT: %q", got)
	}
}

func TestMacOSPythonsWithoutAPyenvVersion(t *testing.T) {
	home := t.TempDir()
	if got := macOSPythons(home, ""); !slices.Equal(got, macOSSystemPythons) {
		t.Errorf("without pyenv: %q", got)
	}
	root := filepath.Join(home, ".pyenv")
	for _, content := range []string{"system\n", "", "../../../usr/bin\n"} {
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "version"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := macOSPythons(home, ""); !slices.Equal(got, macOSSystemPythons) {
			t.Errorf("pyenv version %q: %q", content, got)
		}
	}
}
