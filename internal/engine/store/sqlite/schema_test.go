package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/envelope"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// fixtureDB writes the fixture of schema version k (testdata/schema-k.sql: a
// store as an engine of that schema left it, with data) to a new database
// file, and returns its path.
func fixtureDB(t *testing.T, k int) string {
	t.Helper()
	dump, err := os.ReadFile(fmt.Sprintf("testdata/schema-%d.sql", k))
	if err != nil {
		t.Fatalf("no fixture of schema %d: add testdata/schema-%d.sql, a store of that schema with data in it, when adding migration %d (%v)", k, k, k+1, err)
	}
	path := filepath.Join(t.TempDir(), "ferry.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }() // written in full by Exec, or the test has failed
	if _, err := db.ExecContext(context.Background(), string(dump)); err != nil {
		t.Fatalf("load schema-%d.sql: %v", k, err)
	}
	return path
}

// TestEveryEarlierSchemaMigratesWithItsData opens the fixture of every
// schema up to this build's and checks that every project, env var,
// deployment and alias in it is there afterwards, as the newest code reads them.
func TestEveryEarlierSchemaMigratesWithItsData(t *testing.T) {
	box, err := keyfile.LoadKey("testdata/secret.key")
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= SchemaVersion(); k++ {
		t.Run(fmt.Sprintf("schema-%d", k), func(t *testing.T) {
			s := openPath(t, fixtureDB(t, k))
			if got, err := s.SchemaVersion(context.Background()); err != nil || got != SchemaVersion() {
				t.Fatalf("schema after opening: %d, %v; want %d", got, err, SchemaVersion())
			}
			// The values of every schema, sealed directly under the key before envelope
			// encryption, read through the data key unwrapped with that key, with the same digests.
			ring, err := envelope.Open(context.Background(), box, s, "testdata/secret.key", "the fixture")
			if err != nil {
				t.Fatal(err)
			}
			checkFixtureData(t, s, ring, k)
			keys, err := s.ListSecretKeys(context.Background())
			if err != nil || len(keys) != 1 || keys[0].Fingerprint != box.Fingerprint() {
				t.Errorf("keys: %+v, %v; want the data key wrapped under testdata/secret.key (%s)", keys, err, box.Fingerprint())
			}
		})
	}
}

// checkFixtureData checks what every fixture holds (see testdata/schema-*.sql).
func checkFixtureData(t *testing.T, s *Store, box secrets.Keeper, schema int) {
	t.Helper()
	ctx := context.Background()
	projects, err := s.ListProjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*store.Project{}
	for _, p := range projects {
		byName[p.Name] = p
	}
	hello, api := byName["hello"], byName["api"]
	if len(projects) != 2 || hello == nil || api == nil {
		t.Fatalf("projects: %+v", projects)
	}
	if hello.Framework != "flask" || api.RootDirectory != "backend" || api.InstallCommand == nil || *api.InstallCommand != "pip install -r requirements.txt" ||
		api.BuildCommand == nil || *api.BuildCommand != "python build.py" || hello.BuildCommand != nil || hello.CreatedAt.Year() != 2025 {
		t.Errorf("project settings: hello %+v, api %+v", hello, api)
	}

	wantVars := map[string]struct {
		value, branch string
		targets       []string
	}{
		"GREETING":  {"hello from the fixture", "", []string{"preview", "production"}},
		"FEATURE":   {"on", "feature-x", []string{"preview"}},
		"API_TOKEN": {"s3cret-token", "", []string{"production"}},
	}
	var vars []*store.EnvVar
	for _, p := range projects {
		list, err := s.ListEnvVars(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		vars = append(vars, list...)
	}
	if len(vars) != len(wantVars) {
		t.Errorf("%d env vars, want %d", len(vars), len(wantVars))
	}
	for _, v := range vars {
		want, ok := wantVars[v.Key]
		plain, err := box.Open(context.Background(), v.SealedValue)
		if !ok || err != nil || string(plain) != want.value || v.GitBranch != want.branch || !slices.Equal(v.Targets, want.targets) ||
			v.ValueDigest != digest(t, box, plain) {
			t.Errorf("env var %s: value %q (%v), branch %q, targets %v, digest %q; want %+v", v.Key, plain, err, v.GitBranch, v.Targets, v.ValueDigest, want)
		}
	}

	wantStates := map[string]string{
		"dpl_holdprodaaaaaaaaaaaa": "READY", "dpl_hproductionaaaaaaaaa": "READY", "dpl_hpreviewaaaaaaaaaaaa": "READY",
		"dpl_aerroraaaaaaaaaaaaaa": "ERROR", "dpl_acanceledaaaaaaaaaaa": "CANCELED",
	}
	for _, p := range projects {
		list, err := s.ListDeployments(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			if wantStates[d.ID] != d.State {
				t.Errorf("deployment %s is %s, want %q", d.ID, d.State, wantStates[d.ID])
			}
			delete(wantStates, d.ID)
			var env []string
			plain, err := box.Open(context.Background(), d.SealedEnv)
			if err == nil {
				err = json.Unmarshal(plain, &env)
			}
			if err != nil || !slices.Contains(env, "GREETING=hello from the fixture") {
				t.Errorf("deployment %s env: %q, %v", d.ID, env, err)
			}
			if d.State == "READY" && (d.Run == nil || d.Run.AppDir != "src" || d.Run.Python != "venv/bin/python" || d.Run.Entrypoint != "app:app" || d.ReadyAt == nil) {
				t.Errorf("ready deployment %s: run spec %+v, ready at %v", d.ID, d.Run, d.ReadyAt)
			}
			if wantCache := schema < 11 || d.ID != "dpl_hpreviewaaaaaaaaaaaa"; d.UseBuildCache != wantCache {
				t.Errorf("deployment %s uses the build cache: %v, want %v", d.ID, d.UseBuildCache, wantCache)
			}
			if d.State == "ERROR" && d.ErrorMessage != "no entrypoint: add app.py" {
				t.Errorf("failed deployment %s says %q", d.ID, d.ErrorMessage)
			}
		}
	}
	if len(wantStates) > 0 {
		t.Errorf("deployments lost: %v", wantStates)
	}

	routes, err := s.ReadRoutes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, r := range routes.Routes {
		served[r.Hostname] = r.Kind + " -> "
		if r.Deployment != nil {
			served[r.Hostname] += r.Deployment.ID
		}
		if r.Deployment != nil && schema >= 2 && (r.Deployment.Run == nil || r.Deployment.Run.UID != 1200000) {
			t.Errorf("%s runs as %+v, want uid 1200000", r.Hostname, r.Deployment.Run)
		}
	}
	for host, want := range map[string]string{
		"hello.localhost":           "production -> dpl_hproductionaaaaaaaaa",
		"api.localhost":             "production -> ",
		"hello-hproducti.localhost": "deployment -> dpl_hproductionaaaaaaaaa",
		"hello-holdproda.localhost": "deployment -> dpl_holdprodaaaaaaaaaaaa",
		"hello-hpreviewa.localhost": "deployment -> dpl_hpreviewaaaaaaaaaaaa",
		"api-aerroraaa.localhost":   "deployment -> ",
	} {
		if served[host] != want {
			t.Errorf("%s: %q, want %q", host, served[host], want)
		}
	}
	if schema >= 9 {
		checkFixtureIntegration(t, s, box, api.ID)
	}
	if schema >= 10 {
		checkFixtureDomains(t, s, hello.ID, served)
	}
	if schema >= 12 {
		checkFixtureGit(t, s, hello, served)
	}
	if want := "branch -> dpl_hpreviewaaaaaaaaaaaa"; schema >= 13 && served["feature.hello.test"] != want {
		t.Errorf("the domain bound to feature-x: %q, want %q", served["feature.hello.test"], want)
	}
	if schema >= 14 {
		nodes, err := s.ListNodes(ctx)
		if err != nil || len(nodes) != 1 || nodes[0].ID != "fixture-node" || nodes[0].APIAddress != "127.0.0.1:3443" || nodes[0].Instances != 3 || nodes[0].SeenAt.Sub(nodes[0].StartedAt) != time.Minute {
			t.Errorf("nodes: %+v, %v; want fixture-node", nodes, err)
		}
	}
	if schema >= 15 {
		day := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
		usage, err := s.ListUsage(ctx, store.UsageFilter{ProjectIDs: []string{hello.ID, "prj_deletedfixtureaaaaaa"}}, day, day.AddDate(0, 0, 2))
		if err != nil || len(usage) != 3 || usage[0].ProjectID != "prj_deletedfixtureaaaaaa" || usage[0].BuildMillis != 41000 ||
			usage[1].Requests != 120 || usage[1].MemoryMBMillis != 2048000 || !usage[2].Day.Equal(day.AddDate(0, 0, 1)) {
			t.Fatalf("usage: %+v, %v", usage, err)
		}
		// The migration to schema 20 gave rows their project's team; those of a project deleted
		// before it have none.
		if usage[0].TeamID != "" || usage[1].TeamID != hello.TeamID || usage[2].TeamID != hello.TeamID {
			t.Errorf("usage's teams: %+v, want hello's team (%s) but for the deleted project", usage, hello.TeamID)
		}
	}
	if schema >= 20 {
		day := time.Date(2025, 3, 6, 0, 0, 0, 0, time.UTC)
		usage, err := s.ListUsage(ctx, store.UsageFilter{TeamID: store.DefaultTeamID}, day, day.AddDate(0, 0, 1))
		if err != nil || len(usage) != 1 || usage[0].ProjectID != "prj_deletedwithteamaaaaa" || usage[0].Requests != 9 {
			t.Errorf("the default team's usage of 2025-03-06, of a project deleted since: %+v, %v", usage, err)
		}
	}
	checkFixtureTeams(t, s, schema, hello, api)
	if schema >= 18 {
		checkFixtureProtection(t, s, box, api.ID)
	}
	if schema >= 19 {
		checkFixtureWebhooks(t, s, box)
	}
	if schema >= 2 {
		limits, err := s.ProjectLimits(ctx, api.ID)
		if err != nil || limits == nil || limits.MemoryMB != 512 || limits.CPU != 0.5 {
			t.Errorf("api's limits: %+v, %v", limits, err)
		}
	}
}

// checkFixtureIntegration checks the Supabase integration of fixtures from schema 9 on.
func checkFixtureIntegration(t *testing.T, s *Store, box secrets.Keeper, apiID string) {
	t.Helper()
	ctx := context.Background()
	list, err := s.ListIntegrations(ctx, apiID)
	if err != nil || len(list) != 1 {
		t.Fatalf("api's integrations: %+v, %v", list, err)
	}
	i := list[0]
	plain, err := box.Open(ctx, i.SealedSecrets)
	if err != nil || !strings.Contains(string(plain), "fixture-pw") || string(i.Settings) != `{"driver":"asyncpg","pool_mode":"transaction"}` ||
		!slices.Equal(i.Targets, []string{"production"}) || !slices.Equal(i.EnvKeys, []string{"DATABASE_URL", "POSTGRES_URL"}) {
		t.Errorf("integration %+v: secrets %q, %v", i, plain, err)
	}
}

// checkFixtureDomains checks the custom domains of fixtures from schema 10 on: a verified
// domain served as hello's production, and an unverified apex redirecting to it.
func checkFixtureDomains(t *testing.T, s *Store, helloID string, served map[string]string) {
	t.Helper()
	list, err := s.ListDomains(context.Background(), helloID)
	if err != nil || len(list) < 2 {
		t.Fatalf("hello's domains: %+v, %v", list, err)
	}
	byName := map[string]*store.Domain{}
	for _, d := range list {
		byName[d.Name] = d
	}
	apex, www := byName["hello.test"], byName["www.hello.test"]
	if apex == nil || www == nil {
		t.Fatalf("hello's domains: %+v", list)
	}
	if www.Name != "www.hello.test" || www.Token != "fixture-token-www" || www.VerifiedAt == nil ||
		apex.Name != "hello.test" || apex.Redirect != "www.hello.test" || apex.RedirectStatus != 308 || apex.VerifiedAt != nil {
		t.Errorf("domains: %+v, %+v", apex, www)
	}
	if served["www.hello.test"] != "production -> dpl_hproductionaaaaaaaaa" {
		t.Errorf("www.hello.test: %q", served["www.hello.test"])
	}
}

// checkFixtureGit checks the git data of fixtures from schema 12 on: hello's repository and
// retention, and a preview built from a commit of a branch, served on the branch's URL.
func checkFixtureGit(t *testing.T, s *Store, hello *store.Project, served map[string]string) {
	t.Helper()
	if hello.GitRepositoryURL != "https://github.com/acme/hello.git" || hello.ProductionBranch != "main" || hello.Retention.Preview != "30d" {
		t.Errorf("hello's git settings: %q %q %+v", hello.GitRepositoryURL, hello.ProductionBranch, hello.Retention)
	}
	d, err := s.GetDeployment(context.Background(), "dpl_hpreviewaaaaaaaaaaaa")
	if err != nil {
		t.Fatal(err)
	}
	if d.Git == nil || d.Git.SHA != "0123456789abcdef0123456789abcdef01234567" || d.Git.AuthorLogin != "ada" || d.GitBranch != "feature-x" || d.BuildKey != "fixturebuildkey" {
		t.Errorf("the preview's git: %+v, branch %q, build key %q", d.Git, d.GitBranch, d.BuildKey)
	}
	if served["hello-git-feature-x.localhost"] != "branch -> dpl_hpreviewaaaaaaaaaaaa" {
		t.Errorf("the branch URL: %q", served["hello-git-feature-x.localhost"])
	}
}

func TestNewerStoreIsRefusedWithWhatToDo(t *testing.T) {
	path := fixtureDB(t, SchemaVersion())
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE from_the_future (x); PRAGMA user_version = %d`, SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path)
	var newer *NewerSchemaError
	if !errors.As(err, &newer) || newer.Found != SchemaVersion()+1 || newer.Known != SchemaVersion() {
		t.Fatalf("Open of a newer store: %v", err)
	}
	for _, phrase := range []string{fmt.Sprintf("schema version %d", SchemaVersion()+1), fmt.Sprintf("up to %d", SchemaVersion()), "ferry restore", path} {
		if !strings.Contains(err.Error(), phrase) {
			t.Errorf("the error does not say %q: %v", phrase, err)
		}
	}
	if got, err := SchemaOf(ctx, path); err != nil || got != SchemaVersion()+1 {
		t.Errorf("the refused store changed: schema %d, %v", got, err)
	}
}

// TestFailedMigrationLeavesTheOldSchema has the last of several pending
// migrations fail: none of them is applied, so that an engine of the old
// schema can still open the store.
func TestFailedMigrationLeavesTheOldSchema(t *testing.T) {
	from := SchemaVersion() - 2
	path := fixtureDB(t, from)
	ctx := context.Background()
	shipped := migrations
	migrations = append(migrations[:len(migrations):len(migrations)], `ALTER TABLE no_such_table ADD COLUMN broken INTEGER`)
	t.Cleanup(func() { migrations = shipped })

	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("migration %d", len(migrations))) {
		t.Fatalf("Open with a broken last migration: %v", err)
	}
	if got, err := SchemaOf(ctx, path); err != nil || got != from {
		t.Errorf("after the failed migration the store is at schema %d (%v), want %d", got, err, from)
	}
}

// TestSnapshotWhileWriting copies a store that another connection keeps
// writing to: the copy opens, is of this schema, and holds every project
// committed before the copy began.
func TestSnapshotWhileWriting(t *testing.T) {
	dir := t.TempDir()
	s := openPath(t, filepath.Join(dir, "ferry.db"))
	ctx := context.Background()
	var created atomic.Int64
	create := func(i int64) {
		name := fmt.Sprintf("p%d", i)
		if err := s.CreateProject(ctx, &store.Project{ID: name, Name: name, Framework: "auto", RootDirectory: "."}, name+".localhost"); err != nil {
			t.Error(err)
		}
		created.Store(i + 1)
	}
	for i := range int64(20) {
		create(i)
	}
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for i := int64(20); ; i++ {
			select {
			case <-stop:
				return
			default:
				create(i)
			}
		}
	})
	before := created.Load()
	copyPath := filepath.Join(dir, "copy.db")
	schema, err := Snapshot(ctx, filepath.Join(dir, "ferry.db"), copyPath)
	close(stop)
	writer.Wait()
	if err != nil || schema != SchemaVersion() {
		t.Fatalf("Snapshot = %d, %v", schema, err)
	}
	if info, err := os.Stat(copyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the copy's mode: %v, %v; want 0600", info, err)
	}
	copied, err := openPath(t, copyPath).ListProjects(ctx)
	if err != nil || int64(len(copied)) < before || int64(len(copied)) > created.Load() {
		t.Errorf("the copy holds %d projects (%v); %d were committed before it began, %d by its end", len(copied), err, before, created.Load())
	}
	if _, err := Snapshot(ctx, filepath.Join(dir, "ferry.db"), copyPath); err == nil {
		t.Error("Snapshot overwrote an existing file")
	}
}

func digest(t *testing.T, k secrets.Keeper, value []byte) string {
	t.Helper()
	d, err := k.Digest(context.Background(), value)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkFixtureTeams checks the teams, tokens and audit events of the fixtures from schema 15 on,
// and that projects of older ones belong to the default team.
func checkFixtureTeams(t *testing.T, s *Store, schema int, hello, api *store.Project) {
	t.Helper()
	ctx := context.Background()
	if hello.TeamID != store.DefaultTeamID {
		t.Errorf("hello belongs to %q, want the default team", hello.TeamID)
	}
	if schema < 16 {
		if api.TeamID != store.DefaultTeamID {
			t.Errorf("api belongs to %q, want the default team", api.TeamID)
		}
		return
	}
	if api.TeamID != "team_fixtureaaaaaaaaaaa" {
		t.Errorf("api belongs to %q, want team platform", api.TeamID)
	}
	team, err := s.GetTeam(ctx, "platform")
	if err != nil || team.Projects != 1 || (schema >= 17) != (team.Plan == "pro") {
		t.Fatalf("team platform: %+v, %v", team, err)
	}
	tokens, err := s.ListTokens(ctx, team.ID)
	if err != nil || len(tokens) != 1 || tokens[0].Name != "ci" || !slices.Equal(tokens[0].Scopes, []string{"deploy"}) ||
		!slices.Equal(tokens[0].Projects, []string{api.ID}) || tokens[0].ExpiresAt == nil || tokens[0].ExpiresAt.Year() != 2027 {
		t.Errorf("platform's tokens: %+v, %v", tokens, err)
	}
	events, err := s.ListAudit(ctx, store.AuditFilter{TeamID: team.ID, Limit: 10})
	if err != nil || len(events) != 1 || events[0].Action != "deployment.create" || events[0].Remote != "192.0.2.7" || events[0].TokenID != tokens[0].ID {
		t.Errorf("platform's audit events: %+v, %v", events, err)
	}
}

// checkFixtureProtection checks the preview protection of the fixtures of schema 18 and later.
func checkFixtureProtection(t *testing.T, s *Store, box secrets.Keeper, projectID string) {
	t.Helper()
	ctx := context.Background()
	p, err := s.GetPreviewProtection(ctx, projectID)
	if err != nil {
		t.Fatalf("api's preview protection: %v", err)
	}
	password, err := box.Open(ctx, p.SealedPassword)
	if err != nil || string(password) != "letmein" || p.PasswordDigest != digest(t, box, password) {
		t.Errorf("api's preview password: %q, %v, digest %q", password, err, p.PasswordDigest)
	}
	bypass, err := box.Open(ctx, p.SealedBypass)
	if err != nil || string(bypass) != "ci-bypass-secret-0123456789abcdef" || p.BypassDigest != digest(t, box, bypass) {
		t.Errorf("api's bypass secret: %q, %v, digest %q", bypass, err, p.BypassDigest)
	}
}

// checkFixtureWebhooks checks the webhook of fixtures from schema 19 on: its sealed secret, one
// delivery delivered and one still pending, which a node may claim.
func checkFixtureWebhooks(t *testing.T, s *Store, box secrets.Keeper) {
	t.Helper()
	ctx := context.Background()
	hooks, err := s.ListWebhooks(ctx, "team_fixtureaaaaaaaaaaa")
	if err != nil || len(hooks) != 1 || hooks[0].URL != "https://hooks.example.com/ferry" || !slices.Equal(hooks[0].Events, []string{"deployment.created", "deployment.ready"}) {
		t.Fatalf("platform's webhooks: %+v, %v", hooks, err)
	}
	if secret, err := box.Open(ctx, hooks[0].SealedSecret); err != nil || string(secret) != "fixture-hook-secret" {
		t.Errorf("the webhook's secret: %q, %v", secret, err)
	}
	ds, err := s.ListDeliveries(ctx, hooks[0].ID, 10)
	if err != nil || len(ds) != 2 || ds[0].State != store.DeliveryPending || ds[1].State != store.DeliveryDelivered || ds[1].LastStatus != 204 || ds[1].DeliveredAt == nil {
		t.Fatalf("the webhook's deliveries: %+v, %v", ds, err)
	}
	d, err := s.ClaimDelivery(ctx, "node", time.Now(), time.Now().Add(time.Minute))
	if err != nil || d == nil || d.EventID != "evt_fixtureaaaaaaaaaaa2" || !strings.Contains(string(d.Body), `"deployment.ready"`) {
		t.Errorf("claim the pending delivery: %+v, %v", d, err)
	}
}
