package deploy

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
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
// <project>.<base>, <project>-<short id>.<base> and <project>-git-<branch>.<base>.
type Hostnames struct{ Base string }

// ProductionHost is the host of a project's production alias.
func (h Hostnames) ProductionHost(project string) string { return project + "." + h.Base }

// DeploymentHost is the host of one deployment.
func (h Hostnames) DeploymentHost(project, id string) string {
	return project + "-" + ShortID(id) + "." + h.Base
}

// maxLabel is the longest DNS label.
const maxLabel = 63

// BranchHost is the host of a git branch's URL. A branch whose name is not already a DNS label
// (it has capitals, slashes, or it is too long) gets a short digest of its name after the
// readable part, so that two branches never share a URL ("feature/a" and "feature-a").
func (h Hostnames) BranchHost(project, branch string) string {
	prefix := project + "-git-"
	slug := branchSlug(branch)
	if slug != branch || len(prefix)+len(slug) > maxLabel {
		sum := sha256.Sum256([]byte(branch))
		suffix := hex.EncodeToString(sum[:3])
		keep := min(len(slug), maxLabel-len(prefix)-len(suffix)-1)
		slug = strings.Trim(slug[:max(keep, 0)], "-")
		if slug == "" {
			slug = suffix
		} else {
			slug += "-" + suffix
		}
	}
	return prefix + slug + "." + h.Base
}

// branchSlug is a branch name as a DNS label's characters: lowercase letters, digits and
// single hyphens.
func branchSlug(branch string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(branch) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}
