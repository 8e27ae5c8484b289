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
			copied := db.TransactionURL()
			if strings.HasPrefix(string(driver), "sqlalchemy+") {
				// As copied, but with the scheme SQLAlchemy needs, as apps do.
				copied = strings.Replace(copied, "postgres://", "postgresql+"+strings.TrimPrefix(string(driver), "sqlalchemy+")+"://", 1)
			}
			results := w.run(t, driver, nil, copied)
			if results[0].err == "" {
				t.Fatalf("the URL as copied worked; the test could not fail")
			}
			t.Logf("as copied, %s fails: %s", driver, results[0].err)

			for _, mode := range []dburl.PoolMode{dburl.Transaction, dburl.Session} {
				var urls []string
				var settings []string
				for _, shape := range shapes {
					sanitized, err := dburl.Sanitize(shape.url, driver, mode)
					if err != nil {
						t.Fatal(err)
					}
					urls, settings = append(urls, sanitized.URL), sanitized.DriverSettings
				}
				for i, result := range w.run(t, driver, settings, urls...) {
					if result.err != "" {
						t.Errorf("%s through the %s pooler: %s", shapes[i].name, mode, result.err)
					}
				}
			}
			direct, err := dburl.Sanitize(db.DirectURL(), driver, dburl.Direct)
			if err != nil {
				t.Fatal(err)
			}
			if result := w.run(t, driver, direct.DriverSettings, direct.URL)[0]; result.err != "" {
				t.Errorf("direct: %s", result.err)
			}

			sanitized, err := dburl.Sanitize(db.TransactionURL(), driver, dburl.Transaction)
			if err != nil {
				t.Fatal(err)
			}
			if len(sanitized.DriverSettings) > 0 {
				result := w.run(t, driver, nil, sanitized.URL)[0]
				if !strings.Contains(result.err, "prepared statement") {
					t.Fatalf("without the driver settings, the transaction pooler did not fail on prepared statements (%q); the test could not fail", result.err)
				}
				t.Logf("without the driver settings, %s fails: %s", driver, result.err)
			}
		})
	}
}

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
	out, _ := cmd.Output()
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
			results[i].err = "no answer from the workload: " + lastLine(stderr.String())
		}
	}
	return results
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
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
