package builder

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
)

// maxConfigFileBytes bounds a configuration or lock file the engine reads itself.
const maxConfigFileBytes = 16 << 20

// errAbsent means a file is not in the source.
var errAbsent = errors.New("not in the source")

// readSourceFile reads the file rel of the root directory appDir (errAbsent when there is
// none). The engine reads these files with its own rights, so a symbolic link out of the
// source, a device or a fifo is refused, as is a file over maxConfigFileBytes.
func readSourceFile(appDir, rel string) ([]byte, error) {
	if !filepath.IsLocal(rel) {
		return nil, failure("%s is not a path inside the root directory: keep the files a build reads inside it", rel)
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(appDir, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errAbsent
	}
	if err != nil {
		return nil, failure("cannot read %s: %v", rel, err)
	}
	realDir, err := filepath.EvalSymlinks(appDir)
	if err != nil {
		return nil, err
	}
	if inside, err := filepath.Rel(realDir, resolved); err != nil || !filepath.IsLocal(inside) {
		return nil, failure("%s is a symbolic link that leads outside the root directory: make it a file of the source", rel)
	}
	f, err := os.OpenFile(resolved, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, failure("%s is not a regular file: make it one", rel)
	}
	if info.Size() > maxConfigFileBytes {
		return nil, failure("%s is %d bytes, more than the %d MiB ferry reads in a configuration file", rel, info.Size(), maxConfigFileBytes>>20)
	}
	return io.ReadAll(io.LimitReader(f, maxConfigFileBytes))
}

// decodeTOMLFile reads the TOML file name of appDir into out; false when there is none. fix
// says how to repair a file that does not decode.
func decodeTOMLFile(appDir, name string, out any, fix string) (bool, error) {
	data, err := readSourceFile(appDir, name)
	if errors.Is(err, errAbsent) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := toml.Unmarshal(data, out); err != nil {
		var parseErr toml.ParseError
		if errors.As(err, &parseErr) {
			return false, failure("%s is not valid TOML at line %d, column %d: %s. Fix the syntax", name, parseErr.Position.Line, parseErr.Position.Col, parseErr.Message)
		}
		return false, failure("%s could not be read: %s. %s", name, strings.TrimPrefix(err.Error(), "toml: "), fix)
	}
	return true, nil
}

// sourceFileExists reports whether rel is a file of the root directory appDir.
func sourceFileExists(appDir, rel string) bool {
	info, err := os.Stat(filepath.Join(appDir, rel))
	return err == nil && info.Mode().IsRegular()
}
