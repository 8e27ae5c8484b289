package builder

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

const djangoManage = "manage.py"

// djangoProject finds a Django project as Vercel does: a manage.py that sets
// DJANGO_SETTINGS_MODULE, in the root directory or one of its folders. dir is its folder,
// relative to the root directory ("" for the root itself).
func (b *builder) djangoProject() (dir string, ok bool) {
	dirs := []string{""}
	entries, _ := os.ReadDir(b.appDir)
	for _, entry := range entries {
		if entry.IsDir() && !strings.HasPrefix(entry.Name(), ".") {
			dirs = append(dirs, entry.Name())
		}
	}
	sort.Strings(dirs[1:])
	for _, dir := range dirs {
		data, err := readSourceFile(b.appDir, path.Join(dir, djangoManage))
		if err == nil && bytes.Contains(data, []byte("DJANGO_SETTINGS_MODULE")) {
			return dir, true
		}
	}
	return "", false
}

// djangoAnswer is what helper.py's django command reports.
type djangoAnswer struct {
	SettingsModule string `json:"settings_module"`
	Version        string `json:"version"`
	ASGI           string `json:"asgi_application"`
	WSGI           string `json:"wsgi_application"`
	Error          string `json:"error"`
}

// djangoEntrypoint reads the application Django's settings name: ASGI_APPLICATION, else
// WSGI_APPLICATION, as Vercel does. The app then runs in manage.py's folder.
func (b *builder) djangoEntrypoint(ctx context.Context, dir string) ([]entry, error) {
	b.runDir = filepath.Join(b.appDir, filepath.FromSlash(dir))
	where := path.Join(displayRoot(b.spec.RootDirectory), dir, djangoManage)
	importCtx, cancel := context.WithTimeout(ctx, importTimeout)
	defer cancel()
	var answer djangoAnswer
	if err := b.runHelperIn(importCtx, b.runDir, &answer, "django"); err != nil {
		if ctx.Err() == nil && importCtx.Err() != nil {
			return nil, failure("reading the Django settings through %s did not finish within %s: do the settings wait for something when imported?", where, importTimeout)
		}
		return nil, failure("reading the Django settings through %s failed (%v); the output is below", where, err)
	}
	switch {
	case strings.HasPrefix(answer.Error, "ImportError"):
		return nil, failure("%s is a Django project, but Django cannot be imported (%s): add Django to the project's dependencies (offline: a version the engine's Python has, such as Debian's python3-django)", where, answer.Error)
	case answer.Error != "":
		return nil, failure("reading the Django settings through %s failed: %s. Fix the error in the traceback below", where, answer.Error)
	case answer.SettingsModule == "":
		return nil, failure("%s did not set DJANGO_SETTINGS_MODULE: set it there, as os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")", where)
	}
	b.log.printf("Django %s project in %s, settings %s", answer.Version, displayRoot(path.Join(b.spec.RootDirectory, dir)), answer.SettingsModule)
	setting, application := "ASGI_APPLICATION", answer.ASGI
	if application == "" {
		setting, application = "WSGI_APPLICATION", answer.WSGI
	}
	if application == "" {
		return nil, failure("found Django's %s, but its settings %s set neither ASGI_APPLICATION nor WSGI_APPLICATION: set WSGI_APPLICATION = \"<project>.wsgi.application\" (as django-admin startproject writes it)", where, answer.SettingsModule)
	}
	dot := strings.LastIndex(application, ".")
	if dot <= 0 {
		return nil, failure("%s in %s is %q: it must name the application object of a module, such as \"mysite.wsgi.application\"", setting, answer.SettingsModule, application)
	}
	module, attribute := application[:dot], application[dot+1:]
	for _, file := range moduleFiles(module) {
		if sourceFileExists(b.runDir, file) {
			return []entry{{File: file, Module: module, Attribute: attribute, where: "named by " + setting + " in " + answer.SettingsModule}}, nil
		}
	}
	return nil, failure("%s in %s is %q, but there is no %s next to %s: point it at the module that defines the application", setting, answer.SettingsModule, application, moduleFiles(module)[0], where)
}
