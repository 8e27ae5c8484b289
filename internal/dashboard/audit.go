package dashboard

import (
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// auditPage lists the newest changes the session's token may see: every team's for the
// operator, its own team's for a team's admin token. Other tokens are told which scope it needs.
func (d *Dashboard) auditPage(w http.ResponseWriter, r *request) {
	events, err := r.api.ListAudit(r.ctx, r.URL.Query().Get("team"), api.DefaultAuditLimit, 0)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, http.StatusOK, "audit", view{Title: "Audit log", CSRF: r.session.csrf, Data: events})
}
