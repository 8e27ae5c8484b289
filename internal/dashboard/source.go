package dashboard

import (
	"bytes"
	"net/http"
	"path"
	"strconv"
	"unicode/utf8"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// maxShownSource bounds a file shown as text; larger ones are offered as a download.
const maxShownSource = 512 << 10

type sourceData struct {
	Deployment *api.Deployment
	Files      []api.File
	File       *api.File
	Text       string // the file's content when it is text to show
	Binary     bool
}

func (d *Dashboard) sourcePage(w http.ResponseWriter, r *request) {
	dep, ok := d.deploymentOf(w, r)
	if !ok {
		return
	}
	files, err := r.api.DeploymentFiles(r.ctx, dep.ID)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, http.StatusOK, "source", view{Title: "Source of " + dep.ID, CSRF: r.session.csrf, Data: sourceData{Deployment: dep, Files: files}})
}

// sourceFilePage shows one file, escaped, or with ?download=1 sends it as an attachment: the
// browser never renders a deployed file as a page of the dashboard's origin.
func (d *Dashboard) sourceFilePage(w http.ResponseWriter, r *request) {
	dep, ok := d.deploymentOf(w, r)
	if !ok {
		return
	}
	name := r.PathValue("path")
	content, err := r.api.DeploymentFile(r.ctx, dep.ID, name)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("download") == "1" {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(path.Base(name)))
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		_, _ = w.Write(content) // a failed write means the browser has gone
		return
	}
	data := sourceData{Deployment: dep, File: &api.File{Path: name, Size: int64(len(content))}}
	if len(content) > maxShownSource || !utf8.Valid(content) || bytes.IndexByte(content, 0) >= 0 {
		data.Binary = true
	} else {
		data.Text = string(content)
	}
	d.render(w, http.StatusOK, "file", view{Title: name, CSRF: r.session.csrf, Data: data})
}
