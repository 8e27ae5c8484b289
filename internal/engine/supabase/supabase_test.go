package supabase

import (
	"slices"
	"strings"
	"testing"
)

const pooler = "postgres://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require&supa=base-pooler.x"

// The non-pooling URL never goes through the transaction pooler: the
// session pooler, or the direct connection when that is the mode.
func TestNonPoolingURL(t *testing.T) {
	for _, tc := range []struct {
		mode, want string
	}{
		{"transaction", "@aws-0-eu-central-1.pooler.supabase.com:5432/"},
		{"session", "@aws-0-eu-central-1.pooler.supabase.com:5432/"},
		{"direct", "postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/"},
	} {
		env, err := Resolve(Settings{Driver: "psycopg2", PoolMode: tc.mode}, Secrets{ConnectionString: pooler})
		if err != nil {
			t.Fatal(err)
		}
		if got := env.Vars["POSTGRES_URL_NON_POOLING"]; !strings.Contains(got, tc.want) {
			t.Errorf("%s: POSTGRES_URL_NON_POOLING %s, want it to contain %s", tc.mode, got, tc.want)
		}
		if env.Vars["POSTGRES_URL"] != env.Vars["DATABASE_URL"] {
			t.Errorf("%s: POSTGRES_URL %s differs from DATABASE_URL %s", tc.mode, env.Vars["POSTGRES_URL"], env.Vars["DATABASE_URL"])
		}
	}
}

func TestSupabaseKeysOnlyWhenGiven(t *testing.T) {
	env, err := Resolve(Settings{Driver: "psycopg", PoolMode: "transaction", SupabaseURL: "https://abcdefghijklmnopqrst.supabase.co"},
		Secrets{ConnectionString: pooler, ServiceRoleKey: "service"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"DATABASE_URL", "POSTGRES_DATABASE", "POSTGRES_HOST", "POSTGRES_PASSWORD", "POSTGRES_PRISMA_URL", "POSTGRES_URL",
		"POSTGRES_URL_NON_POOLING", "POSTGRES_USER", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_URL"}
	if !slices.Equal(env.Keys(), want) {
		t.Errorf("keys %v, want %v", env.Keys(), want)
	}
	if env.DriverSettings != "psycopg:prepare_threshold=None" {
		t.Errorf("driver settings %q", env.DriverSettings)
	}
}
