package workers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

// driverPackages are Debian's Python database drivers the workload uses.
var driverPackages = []string{"python3-asyncpg", "python3-psycopg2", "python3-psycopg", "python3-sqlalchemy"}

// pythonDrivers are the drivers a real Python library opens here (Prisma's
// client is not installable offline: its URLs are checked in dburl's tests).
var pythonDrivers = []dburl.Driver{dburl.AsyncPG, dburl.Psycopg2, dburl.Psycopg, dburl.SQLAlchemyAsyncPG, dburl.SQLAlchemyPsycopg2, dburl.SQLAlchemyPsycopg}

// TestDatabaseDriversThroughSupabasesPooler opens every driver on a real
// PostgreSQL through real PgBouncers shaped like Supabase's pooler, with every
// URL shape Supabase and Vercel hand out, sanitized for the driver and each
// pool mode, and the bootstrap's driver settings applied as a deployment gets
// them: two forked workers of concurrent clients, no error, every row there.
// The URL as copied, and the sanitized URL without the driver settings, are
// shown to fail, so the test can.
func TestDatabaseDriversThroughSupabasesPooler(t *testing.T) {
	pgtest.InstallMissing(t, driverPackages...)
	db := pgtest.Start(t)
	bootstrapDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(bootstrapDir, "bootstrap.py"), bootstrapSource, 0o644); err != nil {
		t.Fatal(err)
	}
	w := &workload{t: t, db: db, bootstrapDir: bootstrapDir}
	shapes := []struct{ name, url string }{
		{"the dashboard's transaction pooler URL", db.TransactionURL()},
		{"Vercel's Prisma URL", db.PrismaURL()},
		{"Vercel's non-pooling URL", db.SessionURL()},
	}
	for _, driver := range pythonDrivers {
		t.Run(string(driver), func(t *testing.T) {
			t.Parallel()
			// Attempts run in one Python process per set of driver settings:
			// starting Python and importing the drivers is most of the cost.
			bySettings := map[string][]attempt{}
			add := func(a attempt, settings []string) {
				key := strings.Join(settings, ",")
				bySettings[key] = append(bySettings[key], a)
			}
			copied := db.TransactionURL()
			if strings.HasPrefix(string(driver), "sqlalchemy+") {
				// As copied, but with the scheme SQLAlchemy needs, as apps do.
				copied = strings.Replace(copied, "postgres://", "postgresql+"+strings.TrimPrefix(string(driver), "sqlalchemy+")+"://", 1)
			}
			add(attempt{name: "the URL as copied", url: copied, fails: "any error"}, nil)
			for _, mode := range []dburl.PoolMode{dburl.Transaction, dburl.Session} {
				for _, shape := range shapes {
					sanitized, err := dburl.Sanitize(shape.url, driver, mode)
					if err != nil {
						t.Fatal(err)
					}
					add(attempt{name: shape.name + " through the " + string(mode) + " pooler", url: sanitized.URL}, sanitized.DriverSettings)
					if mode == dburl.Transaction && shape.url == db.TransactionURL() && len(sanitized.DriverSettings) > 0 {
						add(attempt{name: "the transaction pooler without the driver settings", url: sanitized.URL, fails: "prepared statement"}, nil)
					}
				}
			}
			direct, err := dburl.Sanitize(db.DirectURL(), driver, dburl.Direct)
			if err != nil {
				t.Fatal(err)
			}
			add(attempt{name: "direct", url: direct.URL}, direct.DriverSettings)

			for key, attempts := range bySettings {
				var settings, urls []string
				if key != "" {
					settings = strings.Split(key, ",")
				}
				for _, a := range attempts {
					urls = append(urls, a.url)
				}
				for i, result := range w.run(t, driver, settings, urls...) {
					a := attempts[i]
					switch {
					case a.fails == "" && result.err != "":
						t.Errorf("%s: %s", a.name, result.err)
					case a.fails != "" && result.err == "":
						t.Errorf("%s worked; the test could not fail", a.name)
					case a.fails != "" && a.fails != "any error" && !strings.Contains(result.err, a.fails):
						t.Errorf("%s failed with %q, not on %q", a.name, result.err, a.fails)
					case a.fails != "":
						t.Logf("%s fails, as it should: %s", a.name, result.err)
					}
				}
			}
		})
	}
}

// attempt is a URL the workload opens, and the error it must fail with ("" for none).
type attempt struct{ name, url, fails string }

// workload runs testdata/dbworkload.py.
type workload struct {
	t            *testing.T
	db           *pgtest.Server
	bootstrapDir string
	tables       atomic.Int64
}

// urlResult is the workload's outcome on one URL: err is "" when every row is there.
type urlResult struct{ err string }

// run runs the workload on urls in one Python process with the driver
// settings a deployment would get, and skips t when the installed libraries
// cannot run driver at all.
func (w *workload) run(t *testing.T, driver dburl.Driver, settings []string, urls ...string) []urlResult {
	t.Helper()
	table := fmt.Sprintf("rows_%d", w.tables.Add(1))
	for i := range urls {
		w.db.Exec(t, "postgres", fmt.Sprintf("CREATE TABLE %s_%d (id serial PRIMARY KEY, worker int, client int, round int)", table, i))
	}
	cmd := exec.Command(systemPython, append([]string{"testdata/dbworkload.py", w.bootstrapDir, string(driver), table}, urls...)...)
	cmd.Env = append(os.Environ(), dburl.DriverSettingsEnv+"="+strings.Join(settings, ","))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, runErr := cmd.Output()
	if strings.Contains(string(out)+stderr.String(), w.db.Password) {
		t.Errorf("the workload's output shows the password")
	}
	t.Logf("%s, %d URL(s), settings %q: %v", driver, len(urls), settings, time.Since(start).Round(time.Millisecond))
	results := make([]urlResult, len(urls))
	answered := make([]bool, len(urls))
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var answer struct {
			URL         int    `json:"url"`
			Rows        int    `json:"rows"`
			Error       string `json:"error"`
			Unsupported string `json:"unsupported"`
		}
		if json.Unmarshal(line, &answer) != nil {
			continue
		}
		if answer.Unsupported != "" {
			t.Skip(answer.Unsupported)
		}
		for i := range results {
			if answer.URL == i || answer.URL == -1 {
				answered[i] = true
				if answer.Error != "" && results[i].err == "" {
					results[i].err = answer.Error
				}
			}
		}
	}
	for i := range results {
		if !answered[i] {
			results[i].err = fmt.Sprintf("no answer from the workload (%v); the end of its stderr:\n%s", runErr, lastLines(stderr.String(), 15))
		}
	}
	return results
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestBootstrapKnowsEveryDriverSetting keeps the engine's setting names and
// the bootstrap's in step.
func TestBootstrapKnowsEveryDriverSetting(t *testing.T) {
	for _, setting := range []string{dburl.AsyncPGNoStatementCache, dburl.AsyncPGUniqueStatements, dburl.PsycopgNoPreparedQueries} {
		if !bytes.Contains(bootstrapSource, []byte(`"`+setting+`": `)) {
			t.Errorf("bootstrap.py has no DRIVER_SETTINGS entry %q", setting)
		}
	}
	if !bytes.Contains(bootstrapSource, []byte(`DRIVER_SETTINGS_ENV = "`+dburl.DriverSettingsEnv+`"`)) {
		t.Errorf("bootstrap.py does not read %s", dburl.DriverSettingsEnv)
	}
}
