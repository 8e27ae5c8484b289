package dashboard

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

func (d *Dashboard) projectsPage(w http.ResponseWriter, r *request) {
	projects, err := r.api.ListProjects(r.ctx)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	slices.SortFunc(projects, func(a, b api.Project) int { return strings.Compare(a.Name, b.Name) })
	d.render(w, http.StatusOK, "projects", view{Title: "Projects", CSRF: r.session.csrf, Data: projects})
}

type projectData struct {
	Project     *api.Project
	Domains     []api.Domain
	EnvVars     []api.EnvVar // keys and targets: values are never asked for
	Deployments []api.Deployment
	Alias       *api.Alias
	Previous    *api.Deployment // what a rollback goes back to; nil when nothing does
}

func (d *Dashboard) projectPage(w http.ResponseWriter, r *request) {
	p, ok := d.projectOf(w, r)
	if !ok {
		return
	}
	data := projectData{Project: p}
	var err error
	if data.Domains, err = r.api.ListDomains(r.ctx, p.ID); err == nil {
		if data.EnvVars, err = r.api.ListEnvVars(r.ctx, p.ID, false); err == nil {
			if data.Deployments, err = r.api.ListDeployments(r.ctx, p.ID); err == nil {
				data.Alias, err = r.api.GetAlias(r.ctx, p.ID, "")
			}
		}
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	newestFirst(data.Deployments)
	data.Previous = previousProduction(p, data.Deployments)
	d.render(w, http.StatusOK, "project", view{Title: p.Name, CSRF: r.session.csrf, Flash: r.URL.Query().Get("done"), Data: data})
}

// deploymentRows is the project page's table of deployments alone, which the page reloads
// while it is open, so that new deployments and state changes appear.
func (d *Dashboard) deploymentRows(w http.ResponseWriter, r *request) {
	p, ok := d.projectOf(w, r)
	if !ok {
		return
	}
	deployments, err := r.api.ListDeployments(r.ctx, p.ID)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	newestFirst(deployments)
	d.render(w, http.StatusOK, "rows", view{Fragment: true, Data: projectData{Project: p, Deployments: deployments}})
}

func newestFirst(deployments []api.Deployment) {
	slices.SortStableFunc(deployments, func(a, b api.Deployment) int { return b.CreatedAt.Compare(a.CreatedAt) })
}

// previousProduction is the newest READY production deployment older than the one production
// serves, as Vercel's instant rollback picks it.
func previousProduction(p *api.Project, newestFirst []api.Deployment) *api.Deployment {
	current := slices.IndexFunc(newestFirst, func(d api.Deployment) bool { return d.ID == p.ProductionDeploymentID })
	if current < 0 {
		return nil
	}
	for i := current + 1; i < len(newestFirst); i++ {
		if d := newestFirst[i]; d.Target == api.TargetProduction && d.State == api.StateReady {
			return &newestFirst[i]
		}
	}
	return nil
}

type deploymentData struct {
	Project    *api.Project
	Deployment *api.Deployment
	EnvVars    []api.EnvVar
	BuildLog   string
	Building   bool // the build log is still being written: the page follows it
	Production bool // production serves it now
	// Charts of the last hour, for a READY deployment; ChartsProblem says why there are none.
	Charts        []chart
	ChartsProblem string
}

// chartMinutes is how far back the deployment page's charts look.
const chartMinutes = 60

func (d *Dashboard) deploymentPage(w http.ResponseWriter, r *request) {
	dep, ok := d.deploymentOf(w, r)
	if !ok {
		return
	}
	data := deploymentData{Deployment: dep, Building: !client.Terminal(dep.State)}
	var vars []api.EnvVar
	var err error
	if data.Project, err = r.api.GetProject(r.ctx, dep.ProjectID); err == nil {
		if vars, err = r.api.ListEnvVars(r.ctx, dep.ProjectID, false); err == nil {
			data.BuildLog, err = r.api.DeploymentLog(r.ctx, dep.ID)
		}
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	data.Production = data.Project.ProductionDeploymentID == dep.ID
	if dep.State == api.StateReady {
		metrics, err := r.api.DeploymentMetrics(r.ctx, dep.ID, chartMinutes*time.Minute)
		if err != nil {
			data.ChartsProblem = err.Error()
		} else {
			data.Charts = metricsCharts(metrics, time.Now().Add(-(chartMinutes-1)*time.Minute), chartMinutes)
		}
	}
	for _, v := range vars {
		if slices.Contains(v.Targets, dep.Target) && (v.GitBranch == "" || v.GitBranch == dep.GitBranch) {
			data.EnvVars = append(data.EnvVars, v)
		}
	}
	d.render(w, http.StatusOK, "deployment", view{Title: "Deployment " + dep.ID, CSRF: r.session.csrf, Flash: r.URL.Query().Get("done"), Data: data})
}

// followBuildLog streams the build log from ?offset= (bytes the page has already) until the
// build ends, for the page's script to append as it arrives.
func (d *Dashboard) followBuildLog(w http.ResponseWriter, r *request) {
	offset, err := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	if err != nil || offset < 0 {
		offset = 0
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	out := &skipping{w: w, flusher: http.NewResponseController(w), skip: offset}
	if err := r.api.FollowDeploymentLog(r.ctx, r.PathValue("deployment"), out); err != nil && !out.started && !errors.Is(err, io.ErrClosedPipe) {
		d.fail(w, r, err)
	}
}

// followRuntimeLog streams the last lines the deployment's instances printed, then each new one.
func (d *Dashboard) followRuntimeLog(w http.ResponseWriter, r *request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	out := &skipping{w: w, flusher: http.NewResponseController(w)}
	if err := r.api.FollowRuntimeLog(r.ctx, r.PathValue("deployment"), runtimeLogTail, out); err != nil && !out.started {
		d.fail(w, r, err)
	}
}

// runtimeLogTail is how many of the runtime log's last lines a deployment page starts with.
const runtimeLogTail = 200

// skipping writes what comes after its first skip bytes, flushing each write to the browser.
type skipping struct {
	w       io.Writer
	flusher *http.ResponseController
	skip    int64
	started bool
}

func (s *skipping) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip >= int64(n) {
		s.skip -= int64(n)
		return n, nil
	}
	p = p[s.skip:]
	s.skip = 0
	s.started = true
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	_ = s.flusher.Flush() // a browser that has gone shows at the next write
	return n, nil
}

func age(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// buildDuration is the time from creation to READY (the queue included), or "".
func buildDuration(d api.Deployment) string {
	if d.ReadyAt == nil {
		return ""
	}
	return d.ReadyAt.Sub(d.CreatedAt).Round(100 * time.Millisecond).String()
}

func shortSHA(sha string) string { return sha[:min(len(sha), 7)] }

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// commitURL is the commit's page at its forge, "" for a repository without a known web page.
func commitURL(g *api.GitCommit) string {
	if g == nil || g.RepoOwner == "" || g.RepoSlug == "" {
		return ""
	}
	repo := g.RepoOwner + "/" + g.RepoSlug
	switch g.Provider {
	case "github":
		return "https://github.com/" + repo + "/commit/" + g.SHA
	case "gitlab":
		return "https://gitlab.com/" + repo + "/-/commit/" + g.SHA
	case "bitbucket":
		return "https://bitbucket.org/" + repo + "/commits/" + g.SHA
	}
	return ""
}
