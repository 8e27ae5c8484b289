package api

import "time"

// Upgrade in place: a new engine takes over from the engine running on its
// data dir without refusing a connection. It connects to the running
// engine's unix socket and sends POST PathHandover with the headers
// `Connection: Upgrade` and `Upgrade: HandoverProtocol`, and a HandoverOffer
// as the body. The running engine answers 101 Switching Protocols, or an
// Error when it will not hand over (409: the new engine does not know the
// store's schema). From then on the two take turns sending one JSON object
// per line:
//
//	new -> old  HandoverStep{StepReceive}
//	old -> new  HandoverState, with the descriptors it names attached (SCM_RIGHTS)
//	new -> old  HandoverStep{StepReleaseStore}: the old engine stops its API, builds and
//	            housekeeping, and writes nothing more; its apps keep serving
//	old -> new  HandoverStep{StepStoreReleased}
//	new -> old  HandoverStep{StepServing}: the new engine serves the API and the apps on the
//	            same sockets; the old one finishes the requests it has and exits
//
// If the connection ends before StepServing, the old engine stays in charge
// and resumes. Engines of different versions speak this: change it only by
// adding to it.
const HandoverProtocol = "ferry-handover"

// HandoverOffer is the new engine's request to take over.
type HandoverOffer struct {
	Version       string `json:"version"`        // of the new engine
	SchemaVersion int    `json:"schema_version"` // the newest store schema it knows
}

// Steps of the handover.
const (
	StepReceive       = "receive"
	StepReleaseStore  = "release-store"
	StepStoreReleased = "store-released"
	StepServing       = "serving"
)

// HandoverStep is one turn of the handover.
type HandoverStep struct {
	Step string `json:"step"`
}

// Descriptors a HandoverState may carry.
const (
	DescriptorLock      = "lock"       // the data dir's lock file, locked
	DescriptorAPISocket = "api-socket" // the API's unix socket
	DescriptorEdge      = "edge"       // where apps are served
	DescriptorEdgeTLS   = "edge-tls"   // where apps are served over HTTPS, when they are
	DescriptorAPITCP    = "api-tcp"    // the API's TCP listener, when there is one
)

// HandoverState is what the running engine hands over.
type HandoverState struct {
	Version       string         `json:"version"`        // of the old engine
	SchemaVersion int            `json:"schema_version"` // of the store
	APIVersion    int            `json:"api_version"`    // of the old engine; 0 before level 3 sent it
	Settings      EngineSettings `json:"settings"`       // the new engine runs with these
	Descriptors   []string       `json:"descriptors"`    // what each attached descriptor is, in order
	SandboxSlot   string         `json:"sandbox_slot"`   // the new engine takes another one
}

// EngineSettings are the settings of `ferry serve` that an engine hands to
// its successor, so that an upgraded engine runs as the one it replaced was
// started. The token travels over the engine's own unix socket only.
type EngineSettings struct {
	HTTPAddress        string        `json:"http_address"`
	Python             string        `json:"python"`
	ExtraPythons       []string      `json:"extra_pythons,omitempty"`
	BaseDomain         string        `json:"base_domain"`
	APIAddress         string        `json:"api_address,omitempty"`
	Token              string        `json:"token,omitempty"`
	TLSCert            string        `json:"tls_cert,omitempty"`
	TLSKey             string        `json:"tls_key,omitempty"`
	SandboxMode        string        `json:"sandbox_mode"`
	SandboxFirstUID    int           `json:"sandbox_first_uid"`
	SandboxLastUID     int           `json:"sandbox_last_uid"`
	MaxDeploymentBytes int64         `json:"max_deployment_bytes"`
	MaxDeploymentFiles int           `json:"max_deployment_files"`
	NodeID             string        `json:"node_id"`
	BuildWorkers       int           `json:"build_workers"`
	BuildTimeout       time.Duration `json:"build_timeout_ns"`
	MaxQueuedBuilds    int           `json:"max_queued_builds"`
	MaxRequestBody     int64         `json:"max_request_body"`
	MaxQueue           int           `json:"max_queue,omitempty"` // 0 from an engine before it: the default
	TrustedProxies     []string      `json:"trusted_proxies,omitempty"`

	HTTPSAddress        string        `json:"https_address,omitempty"`
	HTTPSAnyPortIfTaken bool          `json:"https_any_port_if_taken,omitempty"`
	ACMEDirectory       string        `json:"acme_directory,omitempty"`
	ACMEEmail           string        `json:"acme_email,omitempty"`
	ACMECARoots         string        `json:"acme_ca_roots,omitempty"`
	HSTSMaxAge          time.Duration `json:"hsts_max_age_ns,omitempty"`
	PublicAddresses     []string      `json:"public_addresses,omitempty"`
	DNSResolvers        []string      `json:"dns_resolvers,omitempty"`
	DomainCheckInterval time.Duration `json:"domain_check_interval_ns,omitempty"`

	// From level 4: shared state and the settings of nodes of several.
	Store            string        `json:"store,omitempty"`     // a PostgreSQL URL, password and all: this travels only over the unix socket
	Artifacts        string        `json:"artifacts,omitempty"` // an S3 URL, keys and all
	KeyFile          string        `json:"key_file,omitempty"`
	SecretKey        string        `json:"secret_key,omitempty"` // the key itself, when it was given in the environment
	BuildLease       time.Duration `json:"build_lease_ns,omitempty"`
	GitTimeout       time.Duration `json:"git_timeout_ns,omitempty"`
	OutputCacheBytes int64         `json:"output_cache_bytes,omitempty"`
	PublicHTTPPort   string        `json:"public_http_port,omitempty"`
	PublicHTTPSPort  string        `json:"public_https_port,omitempty"`
}

// HandoverSince is the first API level whose engines hand over in place.
const HandoverSince = 2
