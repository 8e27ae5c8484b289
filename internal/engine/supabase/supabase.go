// Package supabase turns a Supabase integration into the environment of a
// deployment: DATABASE_URL made right for the app's driver and pool mode, the
// names Vercel's Supabase integration sets, and the driver settings the
// runtime applies where a URL cannot say them.
package supabase

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
)

// Settings are an integration's settings, stored in the clear.
type Settings struct {
	Driver      string `json:"driver"`
	PoolMode    string `json:"pool_mode"` // the mode in force, resolved when the integration is written
	SupabaseURL string `json:"supabase_url,omitempty"`
}

// Secrets are an integration's secrets, stored sealed.
type Secrets struct {
	ConnectionString string `json:"connection_string"`
	AnonKey          string `json:"anon_key,omitempty"`
	ServiceRoleKey   string `json:"service_role_key,omitempty"`
	JWTSecret        string `json:"jwt_secret,omitempty"`
}

// Env is what an integration gives a deployment.
type Env struct {
	Vars map[string]string
	// DriverSettings is the value of dburl.DriverSettingsEnv: a system
	// variable, not one of Vars, since the keys of ferry's own are reserved.
	DriverSettings string
	Database       *dburl.Result // how DATABASE_URL was made
}

// Keys returns the names of Vars, sorted.
func (e *Env) Keys() []string {
	keys := make([]string, 0, len(e.Vars))
	for k := range e.Vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Resolve makes the environment of an integration.
func Resolve(settings Settings, secrets Secrets) (*Env, error) {
	driver, mode := dburl.Driver(settings.Driver), dburl.PoolMode(settings.PoolMode)
	database, err := dburl.Sanitize(secrets.ConnectionString, driver, mode)
	if err != nil {
		return nil, err
	}
	// Never through the transaction pooler: Supabase's session pooler (Vercel's
	// choice), or the direct connection when that is the mode.
	nonPoolingMode := dburl.Session
	if database.PoolMode == dburl.Direct {
		nonPoolingMode = dburl.Direct
	}
	nonPooling, err := dburl.Sanitize(secrets.ConnectionString, driver, nonPoolingMode)
	if err != nil {
		return nil, err
	}
	prisma, err := dburl.Sanitize(secrets.ConnectionString, dburl.Prisma, database.PoolMode)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{
		"DATABASE_URL":             database.URL,
		"POSTGRES_URL":             database.URL,
		"POSTGRES_URL_NON_POOLING": nonPooling.URL,
		"POSTGRES_PRISMA_URL":      prisma.URL,
		"POSTGRES_HOST":            database.Host,
		"POSTGRES_USER":            database.User,
		"POSTGRES_PASSWORD":        database.Password,
		"POSTGRES_DATABASE":        database.Database,
	}
	for key, value := range map[string]string{
		"SUPABASE_URL":              settings.SupabaseURL,
		"SUPABASE_ANON_KEY":         secrets.AnonKey,
		"SUPABASE_SERVICE_ROLE_KEY": secrets.ServiceRoleKey,
		"SUPABASE_JWT_SECRET":       secrets.JWTSecret,
	} {
		if value != "" {
			vars[key] = value
		}
	}
	return &Env{Vars: vars, DriverSettings: strings.Join(database.DriverSettings, ","), Database: database}, nil
}

// Problem is a request field that cannot be used, and why.
type Problem struct{ Field, Message string }

// Check says what is wrong with an integration's request, or nil. Messages
// never quote a secret.
func Check(req *api.SupabaseIntegrationRequest) *Problem {
	if p := dburl.DriverProblem(req.Driver); p != "" {
		return &Problem{"driver", p}
	}
	if req.PoolMode != "" {
		if p := dburl.PoolModeProblem(req.PoolMode); p != "" {
			return &Problem{"pool_mode", p}
		}
	}
	if _, err := dburl.Sanitize(req.ConnectionString, dburl.Driver(req.Driver), dburl.PoolMode(req.PoolMode)); err != nil {
		return &Problem{"connection_string", err.Error()}
	}
	if p := api.SupabaseURLProblem(req.SupabaseURL); p != "" {
		return &Problem{"supabase_url", p}
	}
	for _, secret := range []struct{ field, value string }{
		{"connection_string", req.ConnectionString}, {"anon_key", req.AnonKey},
		{"service_role_key", req.ServiceRoleKey}, {"jwt_secret", req.JWTSecret},
	} {
		if p := api.EnvValueProblem(secret.value); p != "" {
			return &Problem{secret.field, secret.field + ": " + p}
		}
	}
	if p := api.EnvTargetsProblem(req.Targets); p != "" {
		return &Problem{"target", p}
	}
	if req.GitBranch != "" && !slices.Equal(req.Targets, []string{api.TargetPreview}) {
		return &Problem{"git_branch", fmt.Sprintf("git_branch %q limits the integration to preview deployments of that branch: set target = [\"preview\"] with it", req.GitBranch)}
	}
	if p := api.GitBranchProblem(req.GitBranch); p != "" {
		return &Problem{"git_branch", p}
	}
	return nil
}
