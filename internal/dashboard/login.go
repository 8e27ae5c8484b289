package dashboard

import (
	"net/http"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

type loginData struct {
	TokenLogin bool
}

func (d *Dashboard) renderLogin(w http.ResponseWriter, status int, problem string) {
	d.render(w, status, "login", view{Title: "Log in", Problem: problem, Data: loginData{TokenLogin: d.cfg.Token != ""}})
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if d.current(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d.renderLogin(w, http.StatusOK, "")
}

// loginWithToken checks the token by calling the API with it, through the same check (and
// throttle of wrong tokens) as any client.
func (d *Dashboard) loginWithToken(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		d.renderLogin(w, http.StatusForbidden, "This login form did not come from this dashboard: open the dashboard's own login page.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if d.cfg.Token == "" || token == "" {
		d.renderLogin(w, http.StatusUnauthorized, "This engine takes no token here: run `ferry dashboard` on its machine for a login link.")
		return
	}
	api, err := d.apiClient(token)
	if err == nil {
		_, err = api.Health(withBrowser(r.Context(), r.RemoteAddr))
	}
	if err != nil {
		problem := "The engine could not check the token: " + err.Error()
		if apiErr, ok := client.AsError(err); ok {
			switch apiErr.StatusCode {
			case http.StatusUnauthorized:
				problem = "Wrong token: give the engine's API token (FERRY_TOKEN of `ferry serve`) or a team token (ferry tokens create): " + apiErr.Message
			case http.StatusTooManyRequests:
				problem = "Too many wrong tokens from this address: " + apiErr.Message
			}
		}
		d.renderLogin(w, http.StatusUnauthorized, problem)
		return
	}
	setSessionCookie(w, r, d.start(api), int(SessionLifetime.Seconds()))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (d *Dashboard) loginWithLink(w http.ResponseWriter, r *http.Request) {
	if !d.useLink(r.PathValue("link")) {
		d.renderLogin(w, http.StatusUnauthorized, "This login link is used up, expired or wrong: each link logs in once, within minutes. Run `ferry dashboard` again for a new one.")
		return
	}
	api, err := d.apiClient(d.cfg.Token)
	if err != nil {
		d.renderLogin(w, http.StatusInternalServerError, err.Error())
		return
	}
	setSessionCookie(w, r, d.start(api), int(SessionLifetime.Seconds()))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	if s := d.current(r); s != nil && sameOrigin(r) && s.validCSRF(r) {
		d.end(r)
	}
	setSessionCookie(w, r, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
