package s3

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Config says where the store lives and how to reach it.
type Config struct {
	Bucket string
	// Prefix is prepended to every key, so that several stores can share a
	// bucket. No leading or trailing slash.
	Prefix string
	// Endpoint is the base URL of an S3-compatible server; empty means AWS.
	Endpoint string
	// Region signs requests; empty means the AWS configuration's.
	Region string
	// Static credentials; empty means the AWS credential chain
	// (environment, shared config files, instance roles).
	AccessKeyID     string
	SecretAccessKey string
}

// urlForm is how ParseURL reads a store's address.
const urlForm = "s3://[ACCESS_KEY_ID:SECRET@]BUCKET[/PREFIX][?endpoint=URL&region=REGION]"

// Bucket names as S3 allows them: 3 to 63 lowercase letters, digits, dots
// and hyphens, starting and ending with a letter or digit.
var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseURL reads a store's address, urlForm. Its errors never repeat the
// secret.
func ParseURL(raw string) (Config, error) {
	var cfg Config
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole input, secret included.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return cfg, fmt.Errorf("artifact store URL: %v; want %s", err, urlForm)
	}
	// Messages show the URL without its secret, and without the query,
	// whose endpoint may carry another.
	bare := *u
	bare.RawQuery = ""
	shown := bare.Redacted()
	if u.Scheme != "s3" {
		return cfg, fmt.Errorf("artifact store URL %s: scheme %q is not s3; want %s", shown, u.Scheme, urlForm)
	}
	if u.Opaque != "" || u.Host == "" {
		return cfg, fmt.Errorf("artifact store URL %s names no bucket; want %s", shown, urlForm)
	}
	if !bucketPattern.MatchString(u.Host) {
		return cfg, fmt.Errorf("artifact store URL %s: %q is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens, no port)", shown, u.Host)
	}
	if u.Fragment != "" {
		return cfg, fmt.Errorf("artifact store URL %s: remove the #fragment", shown)
	}
	cfg.Bucket = u.Host
	cfg.Prefix = strings.Trim(u.Path, "/")
	if strings.Contains(cfg.Prefix, "//") {
		return cfg, fmt.Errorf("artifact store URL %s: the prefix %q has an empty path segment", shown, cfg.Prefix)
	}
	if u.User != nil {
		secret, ok := u.User.Password()
		cfg.AccessKeyID = u.User.Username()
		cfg.SecretAccessKey = secret
		if !ok || cfg.AccessKeyID == "" || secret == "" {
			return Config{}, fmt.Errorf("artifact store URL %s: credentials in the URL need both the access key id and the secret (ACCESS_KEY_ID:SECRET@BUCKET), or leave them out to use the AWS credential chain", shown)
		}
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("artifact store URL %s: bad query: %v", shown, err)
	}
	for key, values := range query {
		if len(values) != 1 {
			return Config{}, fmt.Errorf("artifact store URL %s: %q is given %d times", shown, key, len(values))
		}
		switch key {
		case "endpoint":
			endpoint, err := parseEndpoint(values[0])
			if err != nil {
				return Config{}, fmt.Errorf("artifact store URL %s: %w", shown, err)
			}
			cfg.Endpoint = endpoint
		case "region":
			if values[0] == "" {
				return Config{}, fmt.Errorf("artifact store URL %s: region is empty", shown)
			}
			cfg.Region = values[0]
		default:
			return Config{}, fmt.Errorf("artifact store URL %s: unknown parameter %q; known: endpoint, region", shown, key)
		}
	}
	return cfg, nil
}

func parseEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not an http:// or https:// URL with a host, such as http://127.0.0.1:7070", redactedEndpoint(raw))
	}
	if u.User != nil {
		return "", fmt.Errorf("endpoint %s carries credentials: put them before the bucket (s3://ACCESS_KEY_ID:SECRET@BUCKET)", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("endpoint %s has a query or fragment; give the server's base URL only", u.Redacted())
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// redactedEndpoint shows an endpoint that did not parse without what could
// be a password in it.
func redactedEndpoint(raw string) string {
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		if scheme := strings.Index(raw, "://"); scheme >= 0 && scheme < at {
			return raw[:scheme+3] + "xxxxx" + raw[at:]
		}
		return "xxxxx" + raw[at:]
	}
	return raw
}

// String gives the store's URL with the secret left out, fit for logs.
func (c Config) String() string {
	u := url.URL{Scheme: "s3", Host: c.Bucket}
	if c.Prefix != "" {
		u.Path = "/" + c.Prefix
	}
	if c.AccessKeyID != "" {
		u.User = url.UserPassword(c.AccessKeyID, "xxxxx")
	}
	query := url.Values{}
	if c.Endpoint != "" {
		query.Set("endpoint", c.Endpoint)
	}
	if c.Region != "" {
		query.Set("region", c.Region)
	}
	u.RawQuery = query.Encode()
	return u.String()
}
