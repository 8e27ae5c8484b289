package deploy

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix_ and 20 random DNS-safe characters (100 bits).
func NewID(prefix string) string {
	b := make([]byte, 13)
	rand.Read(b)
	return prefix + "_" + strings.ToLower(lowerBase32.EncodeToString(b))[:20]
}

// ShortID is the part of an id used in hostnames: its first 9 random characters.
func ShortID(id string) string {
	if i := strings.IndexByte(id, '_'); i >= 0 {
		id = id[i+1:]
	}
	if len(id) > 9 {
		id = id[:9]
	}
	return id
}

// Hostnames names projects' and deployments' hosts under a base domain:
// <project>.<base> and <project>-<short id>.<base>.
type Hostnames struct{ Base string }

// ProductionHost is the host of a project's production alias.
func (h Hostnames) ProductionHost(project string) string { return project + "." + h.Base }

// DeploymentHost is the host of one deployment.
func (h Hostnames) DeploymentHost(project, id string) string {
	return project + "-" + ShortID(id) + "." + h.Base
}
