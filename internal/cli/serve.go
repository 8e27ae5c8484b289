//go:build !windows

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/builder"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/certs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// The engine runs on Linux and macOS; Windows has serve_windows.go instead.

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	httpAddress := fs.String("http-address", envOr("FERRY_HTTP_ADDRESS", engine.DefaultHTTPAddress), "where apps are served (FERRY_HTTP_ADDRESS)")
	python := fs.String("python", os.Getenv("FERRY_PYTHON"), "base Python interpreter of builds (FERRY_PYTHON; default: the first found of "+strings.Join(builder.PythonCandidates(), ", ")+")")
	extraPythons := fs.String("extra-pythons", os.Getenv("FERRY_EXTRA_PYTHONS"), "more interpreters projects may ask for by version, comma-separated; those on PATH and in pyenv are found by themselves (FERRY_EXTRA_PYTHONS)")
	baseDomain := fs.String("base-domain", envOr("FERRY_BASE_DOMAIN", engine.DefaultBaseDomain), "apps are served as NAME.BASE_DOMAIN (FERRY_BASE_DOMAIN)")
	apiAddress := fs.String("api-address", os.Getenv("FERRY_API_ADDRESS"), "also serve the API on this TCP address; needs a token (FERRY_API_ADDRESS)")
	tokenFile := fs.String("token-file", "", "file holding the API token (else FERRY_TOKEN)")
	tlsCert := fs.String("tls-cert", "", "certificate for the TCP API")
	tlsKey := fs.String("tls-key", "", "key for the TCP API")
	sandboxMode := fs.String("sandbox", envOr("FERRY_SANDBOX", "auto"), "how apps are isolated: auto; on Linux uids (root), userns or landlock; on macOS sandbox-exec (FERRY_SANDBOX)")
	sandboxUIDs := fs.String("sandbox-uids", envOr("FERRY_SANDBOX_UIDS", fmt.Sprintf("%d-%d", sandbox.DefaultFirstUID, sandbox.DefaultLastUID)), "range of uids given to projects in sandbox mode uids (FERRY_SANDBOX_UIDS)")
	maxSize := fs.String("max-deployment-size", envOr("FERRY_MAX_DEPLOYMENT_SIZE", fmt.Sprintf("%dMiB", deploy.DefaultMaxBytes>>20)), "limit on the total size of one deployment's files, such as 500MiB or 2GiB (FERRY_MAX_DEPLOYMENT_SIZE)")
	maxFiles := fs.Int("max-deployment-files", deploy.MaxFiles, "limit on the number of files of one deployment")
	buildWorkers := fs.Int("build-workers", deploy.DefaultBuildWorkers, "builds run at once (FERRY_BUILD_WORKERS)")
	buildTimeout := fs.Duration("build-timeout", deploy.DefaultBuildTimeout, "a build still running after this fails (FERRY_BUILD_TIMEOUT)")
	buildLease := fs.Duration("build-lease", deploy.DefaultLease, "a node's claim on a build lapses this long after its last renewal (every third of it), and another node builds the deployment: how long a build waits for a node that died (FERRY_BUILD_LEASE)")
	maxQueue := fs.Int("max-queue", workers.DefaultMaxQueue, "requests that may wait for a deployment's busy instances; more get 503 with Retry-After (FERRY_MAX_QUEUE)")
	maxQueuedBuilds := fs.Int("max-queued-builds", deploy.DefaultMaxQueuedBuilds, "deployments allowed to wait for a build; more are refused with 429 (FERRY_MAX_QUEUED_BUILDS)")
	gitTimeout := fs.Duration("git-timeout", deploy.DefaultGitTimeout, "fetching one git commit for a deployment fails after this (FERRY_GIT_TIMEOUT)")
	storeURL := fs.String("store", os.Getenv("FERRY_STORE"), "metadata store shared by several engine nodes, a postgres:// URL; default: a SQLite database in the data dir (FERRY_STORE)")
	artifactsURL := fs.String("artifacts", os.Getenv("FERRY_ARTIFACTS"), "artifact store shared by several engine nodes, s3://[KEY_ID:SECRET@]BUCKET[/PREFIX][?endpoint=URL&region=REGION]; default: files in the data dir (FERRY_ARTIFACTS)")
	outputCache := fs.String("output-cache-size", envOr("FERRY_OUTPUT_CACHE_SIZE", "10GiB"), "with --artifacts: the most build outputs fetched from other nodes may take on this node's disk, such as 20GiB; the least recently used beyond it are removed, and fetched again when needed (FERRY_OUTPUT_CACHE_SIZE)")
	keyFile := fs.String("key-file", os.Getenv("FERRY_KEY_FILE"), "file holding the 32-byte key that seals secrets, the same on every node of a shared store; or give its base64 in FERRY_SECRET_KEY; default: the data dir's own (FERRY_KEY_FILE)")
	nodeID := fs.String("node-id", os.Getenv("FERRY_NODE_ID"), "names this engine in its claims on builds; unique per engine sharing a database (FERRY_NODE_ID, default the host name)")
	if err := flagsFromEnv(fs, map[string]string{
		"build-workers":     "FERRY_BUILD_WORKERS",
		"build-timeout":     "FERRY_BUILD_TIMEOUT",
		"build-lease":       "FERRY_BUILD_LEASE",
		"max-queued-builds": "FERRY_MAX_QUEUED_BUILDS",
		"max-queue":         "FERRY_MAX_QUEUE",
		"git-timeout":       "FERRY_GIT_TIMEOUT",
	}); err != nil {
		return err
	}
	maxRequestBody := fs.String("max-request-body", envOr("FERRY_MAX_REQUEST_BODY", fmt.Sprintf("%dMiB", edge.DefaultMaxBodySize>>20)), "limit on an app's request body, such as 100MiB; larger ones get 413 (FERRY_MAX_REQUEST_BODY)")
	takeOver := fs.Bool("take-over", false, "take over from the engine running on the data dir, on its sockets and with its settings, without downtime (what `ferry upgrade` runs)")
	trustedProxies := fs.String("trusted-proxies", os.Getenv("FERRY_TRUSTED_PROXIES"), "addresses and CIDR prefixes of load balancers in front of the edge, such as 10.0.0.0/8, whose X-Forwarded-* headers apps may believe (FERRY_TRUSTED_PROXIES)")
	httpsAddress := fs.String("https-address", envOr("FERRY_HTTPS_ADDRESS", engine.DefaultHTTPSAddress), "where apps are served over HTTPS, or off; the default gives way to a free port when taken (FERRY_HTTPS_ADDRESS)")
	publicHTTPPort := fs.String("public-http-port", os.Getenv("FERRY_PUBLIC_HTTP_PORT"), "the port clients reach apps over HTTP on, when a load balancer in front of the nodes listens on another than --http-address's; URLs carry it (FERRY_PUBLIC_HTTP_PORT)")
	publicHTTPSPort := fs.String("public-https-port", os.Getenv("FERRY_PUBLIC_HTTPS_PORT"), "the same for HTTPS (FERRY_PUBLIC_HTTPS_PORT)")
	publicAddress := fs.String("public-address", os.Getenv("FERRY_PUBLIC_ADDRESS"), "IP addresses custom domains' A and AAAA records point at, comma-separated; default: the listeners' own, if specific (FERRY_PUBLIC_ADDRESS)")
	dnsResolvers := fs.String("dns-resolvers", os.Getenv("FERRY_DNS_RESOLVERS"), "DNS servers that verify custom domains, HOST[:PORT] comma-separated; default: those of /etc/resolv.conf (FERRY_DNS_RESOLVERS)")
	acmeDirectory := fs.String("acme-directory", envOr("FERRY_ACME_DIRECTORY", certs.DefaultACMEDirectory), "directory URL of the ACME CA that certifies public names; using it agrees to its subscriber agreement (FERRY_ACME_DIRECTORY)")
	acmeEmail := fs.String("acme-email", os.Getenv("FERRY_ACME_EMAIL"), "contact address of the ACME account, for the CA's notices (FERRY_ACME_EMAIL)")
	acmeRoots := fs.String("acme-ca-roots", os.Getenv("FERRY_ACME_CA_ROOTS"), "PEM file of roots to trust the ACME CA's own HTTPS with, for a private CA (FERRY_ACME_CA_ROOTS)")
	hsts := fs.Duration("hsts", 0, "send Strict-Transport-Security with this max-age on custom domains' HTTPS answers, such as 8760h; 0 sends none (FERRY_HSTS)")
	domainCheckInterval := fs.Duration("domain-check-interval", 0, "how often unverified domains' DNS records are looked up again; 0 is a minute (FERRY_DOMAIN_CHECK_INTERVAL)")
	if err := flagsFromEnv(fs, map[string]string{"hsts": "FERRY_HSTS", "domain-check-interval": "FERRY_DOMAIN_CHECK_INTERVAL"}); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return &exitError{code: ExitUsage, err: err} // the flag package has printed the usage
	}
	if *hsts < 0 || *domainCheckInterval < 0 {
		return errors.New("--hsts and --domain-check-interval cannot be negative")
	}
	// The default address gives way to a free port when taken: several
	// engines on one machine (tests, two data dirs) need not all ask for one.
	httpsIsDefault := os.Getenv("FERRY_HTTPS_ADDRESS") == ""
	fs.Visit(func(f *flag.Flag) { httpsIsDefault = httpsIsDefault && f.Name != "https-address" })
	if *httpsAddress == "off" {
		*httpsAddress = ""
	}
	publicAddresses, err := parseAddresses(*publicAddress)
	if err != nil {
		return fmt.Errorf("--public-address: %w", err)
	}
	for flagName, port := range map[string]string{"--public-http-port": *publicHTTPPort, "--public-https-port": *publicHTTPSPort} {
		if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535) {
			return fmt.Errorf("%s %q: give a port number from 1 to 65535, the one the load balancer listens on", flagName, port)
		}
	}
	resolvers, err := parseResolvers(*dnsResolvers)
	if err != nil {
		return fmt.Errorf("--dns-resolvers: %w", err)
	}
	if *buildWorkers < 1 || *maxQueuedBuilds < 1 || *buildTimeout <= 0 || *gitTimeout <= 0 {
		return errors.New("--build-workers and --max-queued-builds must be at least 1, and --build-timeout and --git-timeout more than 0")
	}
	if *maxQueue < 1 {
		return fmt.Errorf("--max-queue %d: give at least 1 (requests beyond it get 503 at once)", *maxQueue)
	}
	if *buildLease < time.Second {
		return fmt.Errorf("--build-lease %s: give at least 1s (renewed every third of it, a shorter lease lapses on a busy node that is alive)", *buildLease)
	}
	outputCacheBytes, err := parseSize(*outputCache)
	if err != nil {
		return fmt.Errorf("--output-cache-size: %w", err)
	}
	maxBytes, err := parseSize(*maxSize)
	if err != nil {
		return fmt.Errorf("--max-deployment-size: %w", err)
	}
	if *maxFiles <= 0 {
		return fmt.Errorf("--max-deployment-files is %d: give a positive number", *maxFiles)
	}
	if *dataDir == "" {
		return errors.New("no data dir: pass --data-dir or set FERRY_DATA_DIR")
	}
	proxies, err := edge.ParseTrustedProxies(*trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	requestBodyLimit, err := parseSize(*maxRequestBody)
	if err != nil {
		return fmt.Errorf("--max-request-body: %w", err)
	}
	token := os.Getenv("FERRY_TOKEN")
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("read token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	firstUID, lastUID, err := parseUIDRange(*sandboxUIDs)
	if err != nil {
		return err
	}
	if os.Getenv("FERRY_SECRET_KEY") != "" && *keyFile != "" {
		return errors.New("FERRY_SECRET_KEY and --key-file (FERRY_KEY_FILE) both give the key: give one")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	secretKey := os.Getenv("FERRY_SECRET_KEY")
	// Read once: nothing the engine starts needs it in its environment.
	if err := os.Unsetenv("FERRY_SECRET_KEY"); err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	defer cancel()
	return engine.Run(ctx, engine.Config{
		DataDir:        *dataDir,
		HTTPAddress:    *httpAddress,
		Python:         *python,
		ExtraPythons:   splitList(*extraPythons),
		BaseDomain:     *baseDomain,
		APIAddress:     *apiAddress,
		Token:          token,
		TLSCert:        *tlsCert,
		TLSKey:         *tlsKey,
		Logger:         slog.New(slog.NewTextHandler(stderr, nil)),
		TrustedProxies: proxies,
		TakeOver:       *takeOver,

		SandboxMode:     *sandboxMode,
		SandboxFirstUID: firstUID,
		SandboxLastUID:  lastUID,

		MaxDeploymentBytes: maxBytes,
		MaxDeploymentFiles: *maxFiles,

		NodeID:           *nodeID,
		BuildWorkers:     *buildWorkers,
		BuildTimeout:     *buildTimeout,
		BuildLease:       *buildLease,
		OutputCacheBytes: outputCacheBytes,
		MaxQueuedBuilds:  *maxQueuedBuilds,
		GitTimeout:       *gitTimeout,
		MaxRequestBody:   requestBodyLimit,
		MaxQueue:         *maxQueue,

		HTTPSAddress:        *httpsAddress,
		HTTPSAnyPortIfTaken: httpsIsDefault,
		ACMEDirectory:       *acmeDirectory,
		ACMEEmail:           *acmeEmail,
		ACMECARoots:         *acmeRoots,
		HSTSMaxAge:          *hsts,
		PublicAddresses:     publicAddresses,
		PublicHTTPPort:      *publicHTTPPort,
		PublicHTTPSPort:     *publicHTTPSPort,
		DNSResolvers:        resolvers,
		DomainCheckInterval: *domainCheckInterval,

		Store:     *storeURL,
		Artifacts: *artifactsURL,
		SecretKey: secretKey,
		KeyFile:   *keyFile,
	})
}

// printCA prints the certificate of the data dir's local CA, which signs the
// certificates of names no public CA certifies (*.localhost, .test, ...).
func printCA(dataDir string, stdout io.Writer) error {
	path := engine.LocalCACertificate(dataDir)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no local CA in %s yet: an engine serving HTTPS creates it when it starts (ferry serve, or a terraform apply on the embedded engine)", dataDir)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(data)
	return err
}

// dataDirFlag adds serve's --data-dir, which keeps the standard library's flag syntax.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", defaultDataDir(), "data dir of the engine (FERRY_DATA_DIR)")
}

// splitList reads a comma-separated list, dropping empty entries.
func splitList(text string) []string {
	var items []string
	for _, item := range strings.Split(text, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// parseUIDRange reads "FIRST-LAST".
func parseUIDRange(s string) (first, last int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		first, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			last, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || first <= 0 || last < first {
		return 0, 0, fmt.Errorf("--sandbox-uids %q is not a range of uids such as %d-%d", s, sandbox.DefaultFirstUID, sandbox.DefaultLastUID)
	}
	return first, last, nil
}

// sizeUnits are the suffixes parseSize knows, longest first so that "MiB"
// is not read as "B".
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// parseSize reads a positive byte count such as 500MiB, 2GB or 1048576.
func parseSize(text string) (int64, error) {
	number, factor := strings.TrimSpace(text), int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(strings.ToLower(number), strings.ToLower(u.suffix)) {
			number, factor = strings.TrimSpace(number[:len(number)-len(u.suffix)]), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/factor {
		return 0, fmt.Errorf("%q is not a size: write a positive whole number with an optional unit, such as 500MiB, 2GB or 1048576", text)
	}
	return n * factor, nil
}

// flagsFromEnv sets flags from the environment variables named for them,
// before the command line (which wins) is parsed.
func flagsFromEnv(fs *flag.FlagSet, envByFlag map[string]string) error {
	for name, env := range envByFlag {
		if value := os.Getenv(env); value != "" {
			if err := fs.Set(name, value); err != nil {
				return fmt.Errorf("%s=%q: %w", env, value, err)
			}
		}
	}
	return nil
}
