package dashboard

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// confirmData is the page that asks before an action, for browsers without the dialog script.
type confirmData struct {
	Action   string
	Question string
	Fields   map[string]string
}

// confirmed reports whether the form was confirmed; if not, it asks, on a page of its own.
func (d *Dashboard) confirmed(w http.ResponseWriter, r *request, question string, fields map[string]string) bool {
	if r.PostFormValue("confirmed") == "yes" {
		return true
	}
	d.render(w, http.StatusOK, "confirm", view{Title: "Confirm", CSRF: r.session.csrf,
		Data: confirmData{Action: r.URL.Path, Question: question, Fields: fields}})
	return false
}

// rollback points production at the chosen deployment, by default the previous READY production
// deployment, at once and without a build. The engine refuses a deployment of another project,
// or one not READY, and says why.
func (d *Dashboard) rollback(w http.ResponseWriter, r *request) {
	p, ok := d.projectOf(w, r)
	if !ok {
		return
	}
	target := r.PostFormValue("deployment")
	if target == "" {
		deployments, err := r.api.ListDeployments(r.ctx, p.ID)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		newestFirst(deployments)
		previous := previousProduction(p, deployments)
		if previous == nil {
			d.render(w, http.StatusConflict, "problem", view{Title: "Nothing to roll back to", CSRF: r.session.csrf,
				Problem: fmt.Sprintf("Project %s has no READY production deployment older than the one production serves: choose a deployment to roll back to on its page.", p.Name)})
			return
		}
		target = previous.ID
	}
	if !d.confirmed(w, r, fmt.Sprintf("Point production of %s at deployment %s now?", p.Name, target), map[string]string{"deployment": target}) {
		return
	}
	if _, err := r.api.PinAlias(r.ctx, p.ID, "", target); err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r.Request, "/projects/"+url.PathEscape(p.Name)+"?done="+url.QueryEscape("Production now serves "+target+"."), http.StatusSeeOther)
}

// promote makes a deployment production's: a production deployment at once (as a rollback
// does), a preview by a production deployment of the same source, with its build reused.
func (d *Dashboard) promote(w http.ResponseWriter, r *request) {
	dep, ok := d.deploymentOf(w, r)
	if !ok {
		return
	}
	if dep.Target == api.TargetProduction {
		if !d.confirmed(w, r, fmt.Sprintf("Point production at deployment %s now?", dep.ID), nil) {
			return
		}
		if _, err := r.api.PinAlias(r.ctx, dep.ProjectID, "", dep.ID); err != nil {
			d.fail(w, r, err)
			return
		}
		http.Redirect(w, r.Request, "/deployments/"+url.PathEscape(dep.ID)+"?done="+url.QueryEscape("Production now serves this deployment."), http.StatusSeeOther)
		return
	}
	if !d.confirmed(w, r, fmt.Sprintf("Deploy the source of preview %s to production, with production's env vars?", dep.ID), nil) {
		return
	}
	d.deployAgain(w, r, dep, true, true)
}

// redeploy deploys a deployment's source again with the project's env vars as they are now;
// cache=off builds from scratch, installing dependencies anew.
func (d *Dashboard) redeploy(w http.ResponseWriter, r *request) {
	dep, ok := d.deploymentOf(w, r)
	if !ok {
		return
	}
	useCache := r.PostFormValue("cache") != "off"
	question := fmt.Sprintf("Redeploy %s (%s) with the env vars as they are now?", dep.ID, dep.Target)
	if !useCache {
		question = fmt.Sprintf("Redeploy %s (%s) without the build cache: build from scratch and install the dependencies anew?", dep.ID, dep.Target)
	}
	if !d.confirmed(w, r, question, map[string]string{"cache": r.PostFormValue("cache")}) {
		return
	}
	d.deployAgain(w, r, dep, dep.Target == api.TargetProduction, useCache)
}

// deployAgain creates a deployment of dep's source (its files or git commit) with the project's
// env vars as they are now, and shows it.
func (d *Dashboard) deployAgain(w http.ResponseWriter, r *request, dep *api.Deployment, production, useCache bool) {
	created, err := r.api.Redeploy(r.ctx, dep.ID, production, useCache)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r.Request, "/deployments/"+url.PathEscape(created.ID), http.StatusSeeOther)
}
