// Package api is the wire contract between ferry's engine and its clients:
// request and response bodies, paths, and error codes. Its only logic is the
// few input rules that clients and the engine must apply alike.
package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Levels of the wire contract. A level only adds to the ones before it, so
// an engine serves clients of every level from its OldestVersion up to its
// own, and a client works with every engine from MinEngineVersion on: the
// versions of the binaries themselves need not match. The engine reports
// its levels in Health; client.Compatible checks them.
const (
	// Version is the level this build speaks: 2 added the store's schema
	// version to Health and upgrades in place (PathHandover); 3 added
	// aliases, Supabase integrations, custom domains and HTTPS, git sources,
	// branches, redeploys and the build cache; 4 added nodes of several, the
	// console's calls (redeploy_of, env pull, logs, metrics, files, nodes) and
	// the handover of shared state.
	Version = 4
	// OldestVersion is the oldest level of client an engine of this build
	// serves. Level 1 clients expected a string api_version ("v1").
	OldestVersion = 2
	// MinEngineVersion is the oldest engine level clients of this build
	// work with: their resources call what level 3 added.
	MinEngineVersion = 3
)

// Paths of the engine API. Path parameters are written {name}.
const (
	PathHealth      = "/v1/health"
	PathShutdown    = "/v1/shutdown"
	PathHandover    = "/v1/handover" // see HandoverOffer; on the engine's unix socket only
	PathProjects    = "/v1/projects"
	PathProject     = "/v1/projects/{project}" // id or name
	PathEnvVars     = "/v1/projects/{project}/env"
	PathEnvVar      = "/v1/projects/{project}/env/{env}" // env var id
	PathFiles       = "/v1/files/{digest}"               // PUT: blob body; HEAD: presence
	PathDeployments = "/v1/deployments"                  // POST: create; GET ?project=: list
	PathDeployment  = "/v1/deployments/{deployment}"
	// GET: the build log, as DeploymentLog. With ?follow=1: the log as text/plain, streamed
	// (chunked) as the build writes it, until the build has ended; ?offset=N skips its first
	// N bytes, to resume a stream that broke off.
	PathDeploymentLog = "/v1/deployments/{deployment}/log"
	// POST: stop a queued or building deployment, which ends CANCELED; answers the deployment.
	PathDeploymentCancel = "/v1/deployments/{deployment}/cancel"
	// GET ?target=&git_branch=: the digest of the env a new deployment would get (EnvDigest).
	PathEnvDigest = "/v1/projects/{project}/env-digest"
	// POST GitResolveRequest: the commit a git source names now, fetched; answers GitCommit.
	PathGitResolve = "/v1/git/resolve"
	// GET, PUT (AliasRequest), DELETE: pin every production hostname of a project to a deployment.
	PathProductionAlias = "/v1/projects/{project}/production"
	// GET, PUT (AliasRequest), DELETE: the same for one production hostname.
	PathAlias = "/v1/projects/{project}/aliases/{hostname}"
	// POST: create (SupabaseIntegrationRequest); GET: list.
	PathSupabaseIntegrations = "/v1/projects/{project}/integrations/supabase"
	// GET (?decrypt=true for the secrets), PUT (SupabaseIntegrationRequest), DELETE.
	PathSupabaseIntegration = "/v1/projects/{project}/integrations/supabase/{integration}"
	// GET: a project's custom domains; POST (DomainRequest): add one.
	PathDomains = "/v1/projects/{project}/domains"
	// GET, PUT (DomainRequest), DELETE: one custom domain, by name.
	PathDomain = "/v1/projects/{project}/domains/{domain}"
	// POST: look the domain's DNS records up now, instead of at the next periodic check; answers the domain.
	PathDomainVerify = "/v1/projects/{project}/domains/{domain}/verify"
)

// Health is the engine's answer to PathHealth.
type Health struct {
	Status           string   `json:"status"`  // "ok"
	Version          string   `json:"version"` // of the engine's binary
	APIVersion       APILevel `json:"api_version"`
	APIOldestVersion APILevel `json:"api_oldest_version"` // the oldest level of client it serves
	SchemaVersion    int      `json:"schema_version"`     // of its store
	PID              int      `json:"pid"`
	DataDir          string   `json:"data_dir"`
	HTTPAddress      string   `json:"http_address"` // where apps are served, host:port
	// HTTPSAddress is where apps are served over HTTPS, host:port; "" when the engine serves no HTTPS.
	HTTPSAddress string `json:"https_address,omitempty"`
	BaseDomain   string `json:"base_domain"`
	// PublicAddresses are the IP addresses custom domains' A and AAAA records point at.
	PublicAddresses []string  `json:"public_addresses,omitempty"`
	StartedAt       time.Time `json:"started_at"`
}

// APILevel is a level of the contract. Engines of level 1 reported it as
// the string "v1", which reads as 1, so that a client can say what it
// found.
type APILevel int

// UnmarshalJSON reads a level, or the "v1" of level 1 engines.
func (l *APILevel) UnmarshalJSON(data []byte) error {
	if string(data) == `"v1"` {
		*l = 1
		return nil
	}
	return json.Unmarshal(data, (*int)(l))
}

// Frameworks a project may declare.
const (
	FrameworkAuto    = "auto"
	FrameworkFlask   = "flask"
	FrameworkFastAPI = "fastapi"
)

// Project is a deployable app.
type Project struct {
	ID                     string         `json:"id"`
	Name                   string         `json:"name"`
	TeamID                 string         `json:"team_id,omitempty"` // the team that owns it
	Framework              string         `json:"framework"`
	RootDirectory          string         `json:"root_directory"`
	InstallCommand         *string        `json:"install_command"` // nil: default install
	BuildCommand           *string        `json:"build_command"`   // nil: no build step
	ProductionURL          string         `json:"production_url"`
	ProductionDeploymentID string         `json:"production_deployment_id,omitempty"`
	Limits                 Limits         `json:"limits"` // in force: what was set, defaults for the rest
	GitRepository          *GitRepository `json:"git_repository,omitempty"`
	Retention              Retention      `json:"retention"` // in force: "" fields are unlimited
	CreatedAt              time.Time      `json:"created_at"`
	UpdatedAt              time.Time      `json:"updated_at"`

	// PreviewProtection is set when the project's previews ask for a password (protection.go).
	PreviewProtection *PreviewProtection `json:"preview_protection,omitempty"`
}

// ProjectRequest creates a project (POST PathProjects) or replaces its
// settings (PUT PathProject).
type ProjectRequest struct {
	Name string `json:"name"`
	// Team owns the project (id or name); "": the caller's team, or DefaultTeam for the operator.
	Team           string         `json:"team,omitempty"`
	Framework      string         `json:"framework,omitempty"` // default auto
	RootDirectory  string         `json:"root_directory,omitempty"`
	InstallCommand *string        `json:"install_command,omitempty"`
	BuildCommand   *string        `json:"build_command,omitempty"`
	Limits         *Limits        `json:"limits,omitempty"` // nil: the defaults
	GitRepository  *GitRepository `json:"git_repository,omitempty"`
	Retention      *Retention     `json:"retention,omitempty"` // nil: keep every deployment

	// PreviewProtection asks for a password on previews; nil: none (protection.go).
	PreviewProtection *PreviewProtectionRequest `json:"preview_protection,omitempty"`
}

// GitRepository is the repository a project deploys from: git sources without a URL use it,
// and those without a ref its production branch.
type GitRepository struct {
	URL              string `json:"url"`
	ProductionBranch string `json:"production_branch,omitempty"` // default: the repository's default branch
}

// Retention says how long a project keeps deployments, by kind, as Vercel's deployment
// retention policy does: one of RetentionPeriods, "" meaning unlimited. A deployment an alias
// or branch URL serves, and the newest KeptProductionDeployments READY production
// deployments, are kept whatever their age.
type Retention struct {
	Production string `json:"production,omitempty"` // READY production deployments
	Preview    string `json:"preview,omitempty"`    // READY preview deployments
	Errored    string `json:"errored,omitempty"`    // deployments that ended ERROR
	Canceled   string `json:"canceled,omitempty"`   // deployments that ended CANCELED
}

// RetentionUnlimited keeps deployments until they are deleted.
const RetentionUnlimited = "unlimited"

// RetentionPeriods are the periods a Retention may name, shortest first, as Vercel offers them.
var RetentionPeriods = []string{"1d", "1w", "1m", "2m", "3m", "6m", "1y", "2y", "3y", RetentionUnlimited}

// KeptProductionDeployments is how many of the newest READY production deployments retention
// never removes, so that a rollback target is always there.
const KeptProductionDeployments = 10

// RetentionProblem says what makes period unusable as a retention period, or "".
func RetentionProblem(period string) string {
	for _, p := range RetentionPeriods {
		if period == p {
			return ""
		}
	}
	return fmt.Sprintf("retention period %q is not one of %s", period, strings.Join(RetentionPeriods, ", "))
}

// RetentionExpiry is when a deployment created at created expires under period; ok is false
// for a period that never expires ("", unlimited) or is unknown.
func RetentionExpiry(period string, created time.Time) (expiry time.Time, ok bool) {
	days := map[string]int{"1d": 1, "1w": 7}
	months := map[string]int{"1m": 1, "2m": 2, "3m": 3, "6m": 6, "1y": 12, "2y": 24, "3y": 36}
	if d, found := days[period]; found {
		return created.AddDate(0, 0, d), true
	}
	if m, found := months[period]; found {
		return created.AddDate(0, m, 0), true
	}
	return time.Time{}, false
}

// Limits bound each instance of a project's deployments, as Vercel's functions.memory does.
// A zero field takes its default. New deployments get the limits in force when they are built.
type Limits struct {
	MemoryMB  int64   `json:"memory_mb,omitempty"`  // past it the instance is stopped
	CPU       float64 `json:"cpu,omitempty"`        // cores at most, e.g. 0.5 or 2
	Processes int64   `json:"processes,omitempty"`  // processes and threads
	OpenFiles int64   `json:"open_files,omitempty"` // per process

	BuildMinutes int64 `json:"build_minutes,omitempty"` // a build still running after this fails

	FunctionSettings // how instances serve: see functions.go
}

// Defaults and lower bounds of Limits. Upper bounds are the engine's settings.
const (
	DefaultMemoryMB  = 2048
	DefaultCPU       = 1.0
	DefaultProcesses = 256
	DefaultOpenFiles = 4096
	// DefaultBuildMinutes is Vercel's limit on a build.
	DefaultBuildMinutes = 45

	MinMemoryMB     = 128
	MinCPU          = 0.1
	MinProcesses    = 16
	MinOpenFiles    = 64
	MinBuildMinutes = 1
)

// AliasRequest pins production hostnames to a READY production deployment
// of their project (PUT PathProductionAlias or PathAlias): an instant
// rollback or promotion, with no build. Until the alias is deleted, new
// production deployments do not move those hostnames.
type AliasRequest struct {
	DeploymentID string `json:"deployment_id"`
}

// Alias is where production hostnames point.
type Alias struct {
	ProjectID    string   `json:"project_id"`
	Hostname     string   `json:"hostname,omitempty"` // "": every production hostname of the project
	DeploymentID string   `json:"deployment_id"`      // "" when they disagree or nothing is READY
	Pinned       bool     `json:"pinned"`             // by an alias, rather than following production deployments
	URLs         []string `json:"urls"`
}

// DomainRequest adds a custom domain to a project (POST PathDomains) or
// changes one (PUT PathDomain, where Name must be the domain's own).
type DomainRequest struct {
	Name string `json:"name"` // see DomainNameProblem
	// GitBranch binds the domain to the newest READY deployment of a git
	// branch instead of production.
	GitBranch string `json:"git_branch,omitempty"`
	// Redirect makes the domain answer with a redirect to another domain of
	// the project, keeping the path and query, with RedirectStatusCode
	// (default 308).
	Redirect           string `json:"redirect,omitempty"`
	RedirectStatusCode int    `json:"redirect_status_code,omitempty"`
}

// RedirectStatusCodes are the statuses a redirect domain may answer with.
var RedirectStatusCodes = []int{301, 302, 307, 308}

// DefaultRedirectStatusCode is a redirect domain's status when none is given: permanent, method kept.
const DefaultRedirectStatusCode = 308

// Domain is a custom domain of a project.
type Domain struct {
	ProjectID          string `json:"project_id"`
	Name               string `json:"name"` // lowercase ASCII (IDNA) form
	GitBranch          string `json:"git_branch,omitempty"`
	Redirect           string `json:"redirect,omitempty"`
	RedirectStatusCode int    `json:"redirect_status_code,omitempty"`
	// Records are the DNS records that prove ownership and point the domain at this engine.
	Records    []DNSRecord `json:"records"`
	Verified   bool        `json:"verified"`
	VerifiedAt *time.Time  `json:"verified_at,omitempty"`
	// Verification says what the last look at DNS found missing; "" once verified.
	Verification string    `json:"verification,omitempty"`
	TLS          DomainTLS `json:"tls"`
	// URL is where the domain is served: https once it has a certificate, else http.
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

// DNSRecord is a record to create at the domain's DNS provider. Name is the
// fully qualified record name without a trailing dot.
type DNSRecord struct {
	Type  string `json:"type"` // A, AAAA, CNAME or TXT
	Name  string `json:"name"`
	Value string `json:"value"`
}

// States of a domain's certificate.
const (
	TLSDisabled  = "disabled"  // the engine serves no HTTPS
	TLSWaiting   = "waiting"   // for the domain to be verified: no certificate is requested before
	TLSObtaining = "obtaining" // from the CA
	TLSIssued    = "issued"
	TLSFailed    = "failed" // Error holds the CA's message; it is retried
)

// DomainTLS is the state of a domain's certificate.
type DomainTLS struct {
	Status   string     `json:"status"`
	Issuer   string     `json:"issuer,omitempty"`    // the issuing CA's name
	NotAfter *time.Time `json:"not_after,omitempty"` // the certificate's expiry; renewed well before
	Error    string     `json:"error,omitempty"`     // the last failure, in the CA's words
}

// DomainList answers GET PathDomains.
type DomainList struct {
	Domains []Domain `json:"domains"`
}

// ProjectList answers GET PathProjects.
type ProjectList struct {
	Projects []Project `json:"projects"`
}

// Targets an env var or deployment may have.
const (
	TargetProduction  = "production"
	TargetPreview     = "preview"
	TargetDevelopment = "development"
)

// EnvVar is one environment variable of a project. Value is returned only
// where the caller asked for it (?decrypt=true); ValueDigest always, so that
// drift can be seen without the value.
type EnvVar struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"project_id"`
	Key         string    `json:"key"`
	Value       string    `json:"value,omitempty"`
	ValueDigest string    `json:"value_digest"` // see DigestPrefix
	Targets     []string  `json:"target"`
	GitBranch   string    `json:"git_branch,omitempty"`
	Comment     string    `json:"comment,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// DigestPrefix starts every ValueDigest: an HMAC-SHA256 of the value under a
// key derived from the engine's secret key, so that a digest seen in a plan or
// a state file cannot be used to guess the value offline. Only the engine can
// compute it; clients compare it with one the same engine reported before.
const DigestPrefix = "hmac-sha256:"

// MaxEnvValueBytes is the limit on one env var value (Vercel's).
const MaxEnvValueBytes = 64 << 10

// EnvValueProblem says what makes value unusable as an env var value, or ""
// when nothing does. The provider checks it at plan time and the engine on
// every write; the message never quotes the value, which may be a secret.
func EnvValueProblem(value string) string {
	if len(value) > MaxEnvValueBytes {
		return fmt.Sprintf("the value is %d bytes long; at most %d bytes (64 KiB) are allowed per value", len(value), MaxEnvValueBytes)
	}
	return NULProblem("the value", value)
}

// NULProblem says where text (an env var key or value, named by what) holds
// a NUL byte, or "" when it holds none. No process environment can carry a
// NUL: it ends the C string, so every build and start would fail.
func NULProblem(what, text string) string {
	if i := strings.IndexByte(text, 0); i >= 0 {
		return fmt.Sprintf("%s contains a NUL byte (\\x00) at byte %d: environment variables cannot hold NUL; remove it, or encode binary data (for example as base64)", what, i)
	}
	return ""
}

// EnvVarRequest creates (POST PathEnvVars) or replaces (PUT PathEnvVar) an
// env var.
type EnvVarRequest struct {
	Key       string   `json:"key"`
	Value     string   `json:"value"`
	Targets   []string `json:"target"`
	GitBranch string   `json:"git_branch,omitempty"`
	Comment   string   `json:"comment,omitempty"`
}

// EnvVarList answers GET PathEnvVars.
type EnvVarList struct {
	EnvVars []EnvVar `json:"env"`
}

// SupabaseIntegrationRequest creates (POST PathSupabaseIntegrations) or
// replaces (PUT PathSupabaseIntegration) a Supabase integration: a database
// whose connection string is made right for the app's driver and pool mode and
// injected, with the names Vercel's Supabase integration sets, into the
// deployments of its targets.
type SupabaseIntegrationRequest struct {
	ConnectionString string   `json:"connection_string"`   // as Supabase's dashboard gives it
	Driver           string   `json:"driver"`              // asyncpg, psycopg, psycopg2, sqlalchemy+asyncpg, ...
	PoolMode         string   `json:"pool_mode,omitempty"` // transaction, session or direct; "": the URL's default
	Targets          []string `json:"target"`
	GitBranch        string   `json:"git_branch,omitempty"` // previews of this branch only; target must be [preview]
	SupabaseURL      string   `json:"supabase_url,omitempty"`
	AnonKey          string   `json:"anon_key,omitempty"`
	ServiceRoleKey   string   `json:"service_role_key,omitempty"`
	JWTSecret        string   `json:"jwt_secret,omitempty"`
	// Verify connects to the database before anything is stored; a failure
	// is CodeVerifyFailed, with what was wrong.
	Verify bool `json:"verify,omitempty"`
}

// SupabaseIntegration is a Supabase integration as the engine holds it.
// Secrets are returned only where the caller asked for them (?decrypt=true);
// their digests always (see DigestPrefix), "" for a secret not set.
type SupabaseIntegration struct {
	ID          string   `json:"id"`
	ProjectID   string   `json:"project_id"`
	Driver      string   `json:"driver"`
	PoolMode    string   `json:"pool_mode"` // in force
	Targets     []string `json:"target"`
	GitBranch   string   `json:"git_branch,omitempty"`
	SupabaseURL string   `json:"supabase_url,omitempty"`
	EnvKeys     []string `json:"env_keys"` // the variables it injects
	// Changes says what was removed, added or changed in the connection
	// string for the driver and pool mode, without secret parts.
	Changes []string `json:"changes"`

	ConnectionStringDigest string `json:"connection_string_digest"`
	AnonKeyDigest          string `json:"anon_key_digest,omitempty"`
	ServiceRoleKeyDigest   string `json:"service_role_key_digest,omitempty"`
	JWTSecretDigest        string `json:"jwt_secret_digest,omitempty"`

	ConnectionString string `json:"connection_string,omitempty"`
	AnonKey          string `json:"anon_key,omitempty"`
	ServiceRoleKey   string `json:"service_role_key,omitempty"`
	JWTSecret        string `json:"jwt_secret,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SupabaseIntegrationList answers GET PathSupabaseIntegrations.
type SupabaseIntegrationList struct {
	Integrations []SupabaseIntegration `json:"integrations"`
}

// File is one file of a deployment's source, uploaded beforehand to
// PathFiles by its digest.
type File struct {
	Path   string `json:"path"`   // slash-separated, relative to the source root
	Digest string `json:"digest"` // hex sha256 of the content
	Size   int64  `json:"size"`
	Mode   uint32 `json:"mode"` // permission bits; 0755 marks executables
}

// Deployment states.
const (
	StateQueued   = "QUEUED"
	StateBuilding = "BUILDING"
	StateReady    = "READY"
	StateError    = "ERROR"
	StateCanceled = "CANCELED"
)

// Deployment is an immutable build of a project's source with a frozen env.
type Deployment struct {
	ID           string `json:"id"`
	ProjectID    string `json:"project_id"`
	Target       string `json:"target"` // production | preview
	State        string `json:"state"`
	URL          string `json:"url"` // full URL with scheme and port
	Hostname     string `json:"hostname"`
	SourceDigest string `json:"source_digest"`        // digest of the file list
	Entrypoint   string `json:"entrypoint,omitempty"` // module:attribute, once built
	// PythonVersion is the version of the interpreter it was built with, once built.
	PythonVersion string     `json:"python_version,omitempty"`
	ErrorMessage  string     `json:"error_message,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	ReadyAt       *time.Time `json:"ready_at,omitempty"`

	Git       *GitCommit `json:"git,omitempty"`        // the commit it was built from, for a git source
	GitBranch string     `json:"git_branch,omitempty"` // its branch: env vars of that branch apply, and the branch URL follows it
	BranchURL string     `json:"branch_url,omitempty"` // <project>-git-<branch>: the newest READY deployment of its branch
	// EnvDigest is the digest of the project's env vars it was frozen with (see PathEnvDigest).
	EnvDigest string `json:"env_digest"`
	// ReusedBuildOf is the deployment whose build this one serves with a new env (a redeploy:
	// no build ran); "" when it was built itself.
	ReusedBuildOf string `json:"reused_build_of,omitempty"`
}

// DeploymentRequest creates a deployment (POST PathDeployments) from Files or
// from Git. Every file's blob must be uploaded first; otherwise the engine
// answers CodeMissingFiles.
type DeploymentRequest struct {
	ProjectID  string     `json:"project_id"`
	Files      []File     `json:"files,omitempty"`
	Git        *GitSource `json:"git,omitempty"` // the engine fetches the commit itself
	Production bool       `json:"production"`    // target production; the production alias moves here on READY
	// UseBuildCache nil or true: the build output of an earlier deployment with the same build
	// input is served (a redeploy, when only the env changed), and dependencies installed by an
	// earlier build with the same interpreter and dependency spec are reused; false builds from
	// scratch and installs them anew (refreshing the cache), as Vercel's "Redeploy without cache".
	UseBuildCache *bool `json:"use_build_cache,omitempty"`
	// RedeployOf names a deployment whose source (files or git commit) the new deployment takes,
	// with the project's env as it is now; Files and Git stay empty, ProjectID may too. A
	// deployment that ended ERROR or CANCELED may be redeployed: its source was checked when it
	// was created, and a redeploy is how a build that failed for its env is retried.
	RedeployOf string `json:"redeploy_of,omitempty"`
}

// GitSource names the commit of a git deployment.
type GitSource struct {
	URL    string `json:"url,omitempty"`    // default: the project's git repository
	Ref    string `json:"ref,omitempty"`    // a branch, tag or full ref; default: the project's production branch, else the default branch
	Commit string `json:"commit,omitempty"` // a full 40-character sha; default: the ref's commit now
}

// GitResolveRequest asks which commit a git source names now (POST PathGitResolve).
type GitResolveRequest struct {
	ProjectID string `json:"project_id,omitempty"` // for the project's git repository defaults
	GitSource
}

// GitCommit is a commit as the engine fetched it: what a deployment built from it records,
// and what its app gets in the VERCEL_GIT_* variables.
type GitCommit struct {
	URL         string    `json:"url"`          // the repository, without credentials
	Provider    string    `json:"provider"`     // github, gitlab, bitbucket, the server's host name, or local
	RepoOwner   string    `json:"repo_owner"`   // the repository's owner (its path's directory)
	RepoSlug    string    `json:"repo_slug"`    // the repository's name
	Ref         string    `json:"ref"`          // the branch or tag named; "" for a bare commit
	Branch      string    `json:"branch"`       // Ref when it is a branch, else ""
	SHA         string    `json:"sha"`          // full commit sha
	Message     string    `json:"message"`      // at most 4 KiB of it
	AuthorName  string    `json:"author_name"`  //
	AuthorEmail string    `json:"author_email"` //
	AuthorLogin string    `json:"author_login"` // from a noreply address, else the email's local part
	CommittedAt time.Time `json:"committed_at"`
}

// EnvDigest answers PathEnvDigest.
type EnvDigest struct {
	EnvDigest string `json:"env_digest"`
}

// DeploymentList answers GET PathDeployments?project=ID.
type DeploymentList struct {
	Deployments []Deployment `json:"deployments"`
}

// DeploymentLog answers GET PathDeploymentLog: the build log.
type DeploymentLog struct {
	Log string `json:"log"`
}

// Error codes the engine answers with.
const (
	CodeBadRequest   = "bad_request"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"      // e.g. a duplicate name or key+target
	CodeMissingFiles = "missing_files" // upload the listed digests, then retry
	CodeUnauthorized = "unauthorized"
	CodeTooLarge     = "too_large"     // a body or a deployment over a limit the message names
	CodeRateLimited  = "rate_limited"  // wait for Retry-After seconds, then retry
	CodeQueueFull    = "queue_full"    // too many builds waiting: nothing was created, retry later
	CodeVerifyFailed = "verify_failed" // a connection asked for by verify failed: nothing was changed
	CodeInternal     = "internal"
)

// Error is the body of every non-2xx answer.
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`           // what was wrong and what to do
	Field   string   `json:"field,omitempty"`   // the request field at fault
	Missing []string `json:"missing,omitempty"` // for CodeMissingFiles: digests
}

func (e *Error) Error() string { return e.Message }
