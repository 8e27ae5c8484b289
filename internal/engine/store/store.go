// Package store defines the engine's metadata store: projects, env vars, integrations,
// deployments, the build queue and the hostnames that route to deployments. Implementations live in packages of their
// own (sqlite, the embedded default); storetest holds the conformance suite every one passes.
// Uniqueness (names, hostnames, a key per target) is kept by the database's constraints, and
// driver errors are mapped to the errors below inside each implementation. Secret values arrive
// already sealed: a store never sees them in the clear.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique name or key would be duplicated.
var ErrConflict = errors.New("conflict")

// ErrHostnameTaken is the conflict of a hostname already in use, by another
// project's alias or by a deployment's own host.
var ErrHostnameTaken = fmt.Errorf("%w: the hostname is in use", ErrConflict)

// ErrQueueFull is returned when a deployment would exceed the number of
// builds allowed to wait.
var ErrQueueFull = errors.New("the build queue is full")

// ErrNotClaimed is returned when a build's row is no longer claimed by the
// caller: it was deleted, canceled, or its lease ran out and another worker
// took it.
var ErrNotClaimed = errors.New("the build is no longer claimed by this worker")

// ErrBuildGone is returned when a redeploy would serve a build output that no
// deployment serves any more: its deployments were deleted meanwhile, and
// their files with them.
var ErrBuildGone = errors.New("the build output is no longer served by any deployment")

// ErrNotReady is returned when a hostname would point at a deployment that is not READY.
var ErrNotReady = errors.New("the deployment is not READY")

// ErrPinned is returned when deleting a deployment that a pinned alias serves.
var ErrPinned = errors.New("a pinned alias serves the deployment")

// ErrUIDsExhausted means every uid of the sandbox range has been given to a project.
var ErrUIDsExhausted = errors.New("every uid of the sandbox range is taken")

// Store is everything the engine keeps. Each part is its own interface, so
// that a package can ask for only what it uses.
type Store interface {
	Projects
	EnvVars
	Integrations
	Deployments
	Aliases
	Domains
	BuildQueue
	RouteSource
	Keeping
	Nodes
	Usage
	Teams
	SecretKeys
	PreviewProtections
	Webhooks
	Close() error
}

// Usage keeps what each project used, by day (UTC): requests, bytes out, function time and
// build time, added to by the meters of every node. Rows outlive their project, and each keeps
// the team the project had: what a deleted project used still counts for its team's month.
type Usage interface {
	// AddUsage adds each record to its project's day, all in one transaction; a day's first
	// record takes the team of the project.
	AddUsage(ctx context.Context, records []UsageRecord) error
	// ListUsage returns the days from since up to (not including) until that filter picks, by
	// day then project.
	ListUsage(ctx context.Context, filter UsageFilter, since, until time.Time) ([]UsageRecord, error)
}

// UsageFilter picks usage rows: those of both its project ids and its team. The zero filter
// picks every row, deleted projects' too.
type UsageFilter struct {
	ProjectIDs []string // nil: any project; empty: none
	TeamID     string   // "": any team
}

// UsageRecord is what one project used on one day, or an amount to add to it.
type UsageRecord struct {
	ProjectID string
	TeamID    string    // set by the store: the project's team when the day's first record was added
	Day       time.Time // midnight UTC
	Requests  int64
	BytesOut  int64
	// MemoryMBMillis is function time weighted by memory: the memory limit of each instance, in
	// MB, times the milliseconds it ran. GB-hours are MemoryMBMillis / (1024 * 3,600,000).
	MemoryMBMillis int64
	BuildMillis    int64
}

// FunctionGBHours is r's function time in GB-hours, as usage is reported.
func (r UsageRecord) FunctionGBHours() float64 {
	return float64(r.MemoryMBMillis) / (1024 * 3600 * 1000)
}

// BuildMinutes is r's build time in minutes.
func (r UsageRecord) BuildMinutes() float64 { return float64(r.BuildMillis) / 60000 }

// Day is the UTC day t falls on, as usage is kept.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// PreviewProtections keeps the projects whose previews ask for a password.
type PreviewProtections interface {
	// SetPreviewProtection protects a project's previews with p, replacing what protected
	// them before: ErrNotFound when the project does not exist.
	SetPreviewProtection(ctx context.Context, p *PreviewProtection) error
	// GetPreviewProtection returns a project's protection: ErrNotFound when it has none.
	GetPreviewProtection(ctx context.Context, projectID string) (*PreviewProtection, error)
	// DeletePreviewProtection removes a project's protection, if it has one.
	DeletePreviewProtection(ctx context.Context, projectID string) error
}

// PreviewProtection asks for a password on every host of a project but its production ones.
// Requests that carry the bypass secret in a header pass without it.
type PreviewProtection struct {
	ProjectID      string
	SealedPassword []byte
	PasswordDigest string
	SealedBypass   []byte // nil for no bypass secret
	BypassDigest   string // "" for no bypass secret
	UpdatedAt      time.Time
}

// ErrLastKey is returned when retiring the only key the data key is wrapped under.
var ErrLastKey = errors.New("it is the only key the store's data key is wrapped under")

// SecretKeys keeps the data key, which seals every stored value, wrapped under each
// key-encryption key an engine may be given (envelope encryption): a node unwraps it with its
// own key at start. The keys themselves are never stored.
type SecretKeys interface {
	// ListSecretKeys returns the wrapped data keys, oldest first.
	ListSecretKeys(ctx context.Context) ([]SecretKey, error)
	// AddSecretKey stores k: ErrConflict when its fingerprint is stored already or, with
	// first, when any key is, so that nodes starting at once on a new store agree on one
	// data key.
	AddSecretKey(ctx context.Context, k SecretKey, first bool) error
	// ReplaceSecretKeys deletes every wrapped data key and stores k, in one transaction: for
	// an engine of its own whose key file was lost while its store held nothing sealed.
	ReplaceSecretKeys(ctx context.Context, k SecretKey) error
	// RetireSecretKey deletes the wrap of fingerprint: ErrNotFound when there is none,
	// ErrLastKey when it is the only one.
	RetireSecretKey(ctx context.Context, fingerprint string) error
}

// SecretKey is the data key wrapped under the key-encryption key of Fingerprint.
type SecretKey struct {
	Fingerprint    string
	WrappedDataKey []byte
	CreatedAt      time.Time
}

// Nodes keeps the engine nodes that use the store, as their heartbeats tell: what `ferry
// status` lists. A node that stops cleanly leaves; one that dies stops being seen.
type Nodes interface {
	// Heartbeat records that node n is up now (n.SeenAt), adding it or updating it.
	Heartbeat(ctx context.Context, n Node) error
	// LeaveNodes removes the node named id (stopping cleanly) and every node not seen since
	// forgetBefore (gone long ago).
	LeaveNodes(ctx context.Context, id string, forgetBefore time.Time) error
	// ListNodes returns the nodes, by id.
	ListNodes(ctx context.Context) ([]Node, error)
}

// Node is an engine node using the store.
type Node struct {
	ID          string
	Version     string // of ferry
	HTTPAddress string // where its edge listens
	APIAddress  string // where its TCP API listens; "" for none
	StartedAt   time.Time
	SeenAt      time.Time // its last heartbeat
	// Its load at its last heartbeat: app instances running and builds.
	Instances, Builds int
}

// Projects keeps projects, with the production hostname each one claims.
type Projects interface {
	// CreateProject inserts p and claims its production hostname:
	// ErrConflict for a name in use, ErrHostnameTaken for a host in use.
	CreateProject(ctx context.Context, p *Project, productionHost string) error
	// GetProject finds a project by id or by name.
	GetProject(ctx context.Context, idOrName string) (*Project, error)
	// ListProjects returns every project, by name.
	ListProjects(ctx context.Context) ([]*Project, error)
	// UpdateProject replaces a project's settings and moves its production
	// hostname to productionHost and each branch hostname to branchHost(its
	// branch), in one transaction.
	UpdateProject(ctx context.Context, p *Project, productionHost string, branchHost func(branch string) string) error
	// DeleteProject deletes a project with its env vars, deployments and
	// hostnames, and returns the ids of the deployments deleted, and of those
	// (deleted before) whose build output their redeploys served: the
	// deployment directories it may have left unused.
	DeleteProject(ctx context.Context, id string) ([]string, error)
	// ProjectLimits returns the limits set on a project; nil when none are.
	ProjectLimits(ctx context.Context, projectID string) (*api.Limits, error)
	// SetProjectLimits sets (or, with nil, clears) a project's limits.
	SetProjectLimits(ctx context.Context, projectID string, l *api.Limits) error
	// ProjectUID returns the uid a project's builds and instances run as,
	// allocating the next one of [first, last] on first use. Uids are never
	// reused, even after the project is deleted; ErrUIDsExhausted when none is left.
	ProjectUID(ctx context.Context, projectID string, first, last int) (int, error)
}

// EnvVars keeps a project's env vars. A key is set at most once per target
// (and git branch): a second one is a *DuplicateEnvError.
type EnvVars interface {
	CreateEnvVar(ctx context.Context, v *EnvVar) error
	// UpdateEnvVar replaces v's key, value, targets, branch and comment.
	UpdateEnvVar(ctx context.Context, v *EnvVar) error
	GetEnvVar(ctx context.Context, projectID, id string) (*EnvVar, error)
	// ListEnvVars returns a project's vars by key.
	ListEnvVars(ctx context.Context, projectID string) ([]*EnvVar, error)
	DeleteEnvVar(ctx context.Context, projectID, id string) error
}

// Integrations keeps a project's integrations (a Supabase database). Each one
// claims the env keys it injects for each of its targets and its git branch, in
// the namespace of env vars: a key an env var or another integration already
// holds there is a *DuplicateEnvError, and nothing is written.
type Integrations interface {
	CreateIntegration(ctx context.Context, i *Integration) error
	// UpdateIntegration replaces i's settings, secrets, targets, branch and keys.
	UpdateIntegration(ctx context.Context, i *Integration) error
	GetIntegration(ctx context.Context, projectID, id string) (*Integration, error)
	// ListIntegrations returns a project's integrations, oldest first.
	ListIntegrations(ctx context.Context, projectID string) ([]*Integration, error)
	DeleteIntegration(ctx context.Context, projectID, id string) error
}

// Deployments keeps deployments and moves production between them.
type Deployments interface {
	// EnqueueDeployment inserts d as QUEUED and claims its hostname, unless
	// maxQueued deployments are already waiting: then it inserts nothing and
	// returns ErrQueueFull. ErrNotFound when its project is gone.
	EnqueueDeployment(ctx context.Context, d *Deployment, maxQueued int) error
	GetDeployment(ctx context.Context, id string) (*Deployment, error)
	// ListDeployments returns a project's deployments, newest first.
	ListDeployments(ctx context.Context, projectID string) ([]*Deployment, error)
	// MarkReady records a successful build with its run spec (d.Run), if
	// d.ClaimedBy still holds its claim (else ErrNotClaimed), and moves the
	// hostnames of moves to it (production's unless pinned) in the same
	// transaction, so traffic switches at once.
	MarkReady(ctx context.Context, d *Deployment, moves Moves) error
	// InsertReady inserts d READY with its run spec, as a redeploy (which
	// serves another deployment's build output) is born, claims its hostname
	// and moves the hostnames of moves to it, in one transaction. ErrNotFound
	// when its project is gone; ErrBuildGone when no deployment serves the
	// build output of d.BuildOf any more, which the same transaction checks
	// (a delete removes an output's files once nothing serves it).
	InsertReady(ctx context.Context, d *Deployment, moves Moves) error
	// FindBuild returns the newest READY deployment of a project built with
	// buildKey (see Deployment.BuildKey); ErrNotFound when there is none.
	FindBuild(ctx context.Context, projectID, buildKey string) (*Deployment, error)
	// OutputInUse reports whether the build output in the directory of
	// deployment id is still served: by that deployment, or by a redeploy of it.
	OutputInUse(ctx context.Context, id string) (bool, error)
	// CancelDeployment marks a queued or building deployment CANCELED. It
	// returns the deployment as it is afterwards, and whether it was canceled
	// now (false: it had already finished).
	CancelDeployment(ctx context.Context, id string) (*Deployment, bool, error)
	// DeleteDeployment deletes a deployment with its hostname. Production
	// hostnames that served it fall back to the project's newest other READY
	// production deployment, or to nothing, and its branch's hostname to the
	// newest other READY deployment of the branch, or is removed, in the same
	// transaction. ErrPinned, and nothing deleted, when a pinned alias serves it.
	DeleteDeployment(ctx context.Context, id string) error
	// ProductionDeploymentID returns the deployment the project's production
	// hostname serves, or "".
	ProductionDeploymentID(ctx context.Context, projectID string) (string, error)
	// UnconfinedDeployments returns the READY deployments whose run spec
	// gives no sandbox uid: those built before engines confined instances.
	UnconfinedDeployments(ctx context.Context) ([]*Deployment, error)
	// SetRunSpec replaces the run spec of a READY deployment (ErrNotFound
	// for any other), for an engine that confines what an older one built.
	SetRunSpec(ctx context.Context, id string, run *runspec.Spec) error
}

// Aliases pins a project's production hostnames to a deployment of its
// choosing: an instant rollback or promotion, with no build. A pinned
// hostname stays where it is put; new production deployments no longer move it.
type Aliases interface {
	// PinAlias points hostname (every production hostname of the project,
	// when hostname is "") at deploymentID and pins it there, in one
	// transaction. ErrNotFound when the hostname is not one of the project's
	// production hostnames or the deployment is not the project's;
	// ErrNotReady when the deployment is not READY.
	PinAlias(ctx context.Context, projectID, hostname, deploymentID string) error
	// UnpinAlias releases what PinAlias pinned: the hostnames point at the
	// project's newest READY production deployment again, as if never pinned.
	UnpinAlias(ctx context.Context, projectID, hostname string) error
	// ListAliases returns the project's production hostnames, by hostname.
	ListAliases(ctx context.Context, projectID string) ([]Alias, error)
}

// Alias is a production hostname of a project and where it points.
type Alias struct {
	Hostname     string
	DeploymentID string // "" when nothing READY is there yet
	Pinned       bool
}

// Domains keeps projects' custom domains. A domain is a production hostname
// of its project in the one namespace of hostnames, so that promotion,
// rollback and aliases move it with the project's own production host, and a
// name can belong to one project only. Beside it the store keeps the domain's
// ownership token and what ferry learnt of its DNS and its certificate.
type Domains interface {
	// CreateDomain claims d.Name as a production hostname of d.ProjectID,
	// serving what the project's own production host serves, and stores d:
	// ErrHostnameTaken when the name is in use; ErrNotFound when the project
	// is gone or d.Redirect is not a domain of the project.
	CreateDomain(ctx context.Context, d *Domain) error
	// GetDomain finds a domain by name.
	GetDomain(ctx context.Context, name string) (*Domain, error)
	// ListDomains returns a project's domains ("": every project's), by name.
	ListDomains(ctx context.Context, projectID string) ([]*Domain, error)
	// UpdateDomain replaces a domain's git branch and redirect. ErrNotFound
	// when it is not a domain of d.ProjectID, or d.Redirect is not one.
	UpdateDomain(ctx context.Context, d *Domain) error
	// DeleteDomain deletes a domain of the project with its hostname.
	// A *RedirectedError, and nothing deleted, while other domains redirect to it.
	DeleteDomain(ctx context.Context, projectID, name string) error
	// RecordVerification records a look at a domain's DNS at checkedAt: its
	// problem ("" when the records were right, which verifies the domain for
	// good). ErrNotFound when the domain is gone.
	RecordVerification(ctx context.Context, name string, checkedAt time.Time, problem string) error
	// RecordCertificate records the state of the certificate of name, if name
	// is a domain; for other hostnames it does nothing.
	RecordCertificate(ctx context.Context, name string, c Certificate) error
}

// Domain is a stored custom domain.
type Domain struct {
	Name           string
	ProjectID      string
	GitBranch      string
	Redirect       string // another domain of the project; "" serves the app
	RedirectStatus int
	Token          string     // the ownership token its TXT record must hold
	VerifiedAt     *time.Time // nil until its DNS records were found right
	CheckedAt      *time.Time // the last look at its DNS
	Verification   string     // what that look found wrong
	Certificate    Certificate
	CreatedAt      time.Time
}

// Certificate is what the engine knows of a domain's certificate.
type Certificate struct {
	Status   string     // an api.TLS* state; "" before any attempt
	Issuer   string     // the issuing CA's name
	NotAfter *time.Time // expiry of the certificate served
	Error    string     // the last failure, in the CA's words
}

// RedirectedError refuses to delete a domain other domains redirect to.
type RedirectedError struct {
	Domain string
	From   []string
}

func (e *RedirectedError) Error() string {
	return fmt.Sprintf("%s is the target of the redirect of %s", e.Domain, strings.Join(e.From, ", "))
}

func (e *RedirectedError) Unwrap() error { return ErrConflict }

// BuildCaps are the builds a team may have claimed at once, by the name of its plan
// (api.Plan.ConcurrentBuilds); a plan not in it, or at 0, has no cap.
type BuildCaps map[string]int

// JSON is caps as the JSON object the stores' queries read: {} for none.
func (c BuildCaps) JSON() string {
	if c == nil {
		return "{}"
	}
	text, _ := json.Marshal(c) // a map of strings to ints always marshals
	return string(text)
}

// BuildQueue is the queue of builds: QUEUED deployments, claimed by a node
// for a lease it renews while it builds.
type BuildQueue interface {
	// ClaimDeployment claims the oldest deployment waiting to be built
	// (QUEUED, or BUILDING under a lease that ran out) for node until
	// leaseUntil, marks it BUILDING and returns it; nil when none is waiting.
	// Two workers (or nodes) never claim the same row. A deployment whose
	// team already has as many builds claimed as caps allows its plan waits,
	// and those queued after it of other teams go first; no two claims pass
	// a team's cap, on any number of nodes.
	ClaimDeployment(ctx context.Context, node string, leaseUntil time.Time, caps BuildCaps) (*Deployment, error)
	// RenewLease extends node's claim, or returns ErrNotClaimed.
	RenewLease(ctx context.Context, id, node string, leaseUntil time.Time) error
	// ReleaseDeployment puts a build node holds back in the queue.
	ReleaseDeployment(ctx context.Context, id, node string) error
	// ReleaseNodeClaims puts every build node holds back in the queue and
	// returns how many: node restarted, so they need not wait for their leases.
	ReleaseNodeClaims(ctx context.Context, node string) (int64, error)
	// FailBuild ends a build that did not succeed (ERROR, or CANCELED) with
	// its message, if node still holds the claim (else ErrNotClaimed).
	FailBuild(ctx context.Context, id, node, state, errorMessage string) error
	// QueuedBuilds counts the deployments waiting to be built (QUEUED).
	QueuedBuilds(ctx context.Context) (int, error)
}

// RouteSource is what the edge reads.
type RouteSource interface {
	// RoutesVersion returns the version of what is served now; it goes up
	// with every change to it.
	RoutesVersion(ctx context.Context) (int64, error)
	// ReadRoutes returns every hostname with what it serves, as of one version.
	ReadRoutes(ctx context.Context) (*Routes, error)
}

// RouteWatcher is a store shared by several engine nodes that tells each of
// them when another changed what is served, so that its edge reloads without
// waiting for a poll. A store only one engine writes need not be one.
type RouteWatcher interface {
	// WatchRoutes returns a channel that receives after changes to what is
	// served are committed, by any node, and whenever some may have been
	// missed (when it starts listening, and after it lost the database). It
	// is closed once ctx ends or the store is closed.
	WatchRoutes(ctx context.Context) <-chan struct{}
}

// Keeping is what the engine's housekeeping and key checks read and fix.
type Keeping interface {
	// ReferencedDigests returns the digest of every file some deployment
	// lists, whatever its state: the blobs that must be kept.
	ReferencedDigests(ctx context.Context) (map[string]bool, error)
	// SealedSample returns one value sealed with the engine's key, or nil
	// when none is stored: enough to tell whether a key belongs to this store.
	SealedSample(ctx context.Context) ([]byte, error)
	// ForgetUnkeyedDigests blanks value digests that do not start with
	// keyedPrefix: plain hashes of a value would let a copy of the store be
	// used to guess values offline.
	ForgetUnkeyedDigests(ctx context.Context, keyedPrefix string) error
	// ServedDeployments returns the ids of the deployments a production or
	// branch hostname serves: retention never removes them.
	ServedDeployments(ctx context.Context) (map[string]bool, error)
	// SchemaVersion returns the schema the store is at.
	SchemaVersion(ctx context.Context) (int, error)
}

// Project is a stored project.
type Project struct {
	ID             string
	Name           string
	TeamID         string // the team that owns it; "" on create: DefaultTeamID
	Framework      string
	RootDirectory  string
	InstallCommand *string
	BuildCommand   *string
	// GitRepositoryURL and ProductionBranch are the defaults of git sources; "" when unset.
	GitRepositoryURL string
	ProductionBranch string
	Retention        api.Retention // "" fields keep deployments forever
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// EnvVar is a stored env var; its value is sealed.
type EnvVar struct {
	ID          string
	ProjectID   string
	Key         string
	SealedValue []byte
	ValueDigest string
	Targets     []string // sorted
	GitBranch   string
	Comment     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Kinds of integrations.
const IntegrationSupabase = "supabase"

// Integration is a stored integration: settings in the clear, secrets sealed.
type Integration struct {
	ID            string
	ProjectID     string
	Kind          string
	Settings      []byte // JSON of the kind's settings; nothing secret
	SealedSecrets []byte // JSON of the kind's secrets, sealed
	Targets       []string
	GitBranch     string
	EnvKeys       []string // the keys it injects, claimed for each target
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DuplicateEnvError says which existing var an env var would clash with.
type DuplicateEnvError struct {
	Key, Target, GitBranch string
	IntegrationID          string // the integration that holds the key; "" for an env var
}

func (e *DuplicateEnvError) Error() string {
	where := e.Target
	if e.GitBranch != "" {
		where += " (git branch " + e.GitBranch + ")"
	}
	by := "by an env var"
	if e.IntegrationID != "" {
		by = "by integration " + e.IntegrationID
	}
	return fmt.Sprintf("%s is already set for %s %s", e.Key, where, by)
}

func (e *DuplicateEnvError) Unwrap() error { return ErrConflict }

// Deployment is a stored deployment. Files is the JSON file list; SealedEnv
// the frozen env, sealed.
type Deployment struct {
	ID           string
	ProjectID    string
	Target       string
	State        string
	Hostname     string
	SourceDigest string
	Files        []byte
	SealedEnv    []byte
	Run          *runspec.Spec // how it runs; set when it is READY
	// UseBuildCache lets the build reuse installed dependencies, and the deployment an earlier
	// build's output; false builds it anew.
	UseBuildCache bool
	ErrorMessage  string
	CreatedAt     time.Time
	ReadyAt       *time.Time
	ClaimedBy     string     // the node building it, while BUILDING
	LeaseUntil    *time.Time // when that claim lapses unless renewed

	Git       *api.GitCommit // the commit it was built from, for a git source
	GitBranch string         // its branch, for a git source; "" otherwise
	EnvDigest string         // digest of the project's env vars it was frozen with
	// BuildKey identifies the whole input of its build (see deploy.BuildKey): a new deployment
	// with the same key may serve this one's build output instead of building.
	BuildKey string
	// BuildOf is the deployment whose directory holds the build output this one serves (a
	// redeploy); "" when that is its own.
	BuildOf string
}

// OutputOwner is the deployment whose directory holds d's build output.
func (d *Deployment) OutputOwner() string {
	if d.BuildOf != "" {
		return d.BuildOf
	}
	return d.ID
}

// Moves are the hostnames a deployment takes over when it becomes READY.
type Moves struct {
	Production bool   // the project's production hostnames
	BranchHost string // its branch's hostname, claimed if no deployment has it yet; "" for none
}

// Kinds of hostnames.
const (
	HostDeployment = "deployment" // a deployment's own host; never moves
	HostProduction = "production" // a project's production alias; moves on promote, rename and delete
	HostBranch     = "branch"     // a git branch's URL: the newest READY deployment of the branch
)

// Route is one hostname and what it serves.
type Route struct {
	Hostname    string
	Kind        string
	ProjectName string
	Deployment  *Deployment  // the READY deployment it serves; nil when there is none
	Domain      *RouteDomain // set when the hostname is a custom domain
	// Protection is set when the project's previews are protected (whatever the
	// kind of this hostname: the edge decides which hosts it applies to).
	Protection *PreviewProtection
}

// RouteDomain is what the edge needs to know of a custom domain.
type RouteDomain struct {
	Verified       bool   // its DNS records were found right; until then it is not served
	Redirect       string // answer every request with a redirect to this domain
	RedirectStatus int
}

// Routes is everything the edge serves, as of one version of the store.
type Routes struct {
	Version int64 // goes up with every change to what is served
	Routes  []Route
}

// RunOutput is the build output archive that a run spec, as stored, names; "" for none or
// no run spec.
func RunOutput(stored []byte) (string, error) {
	if len(stored) == 0 || string(stored) == "null" {
		return "", nil
	}
	var spec runspec.Spec
	if err := json.Unmarshal(stored, &spec); err != nil {
		return "", err
	}
	return spec.Output, nil
}
