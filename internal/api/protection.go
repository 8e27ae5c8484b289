package api

// Preview protection: every host of a protected project but its production ones (the production
// alias and the custom domains that follow production) asks for a password, as Vercel's Standard
// Protection does; deployment URLs of production deployments are protected too. CI passes with
// the bypass secret in a header instead.

// PreviewProtectionRequest protects a project's previews (ProjectRequest.PreviewProtection);
// a ProjectRequest without it removes the protection. Its secrets are write-only: answers
// carry their digests.
type PreviewProtectionRequest struct {
	// Password is asked on previews; "" keeps the one set before, which a project not protected
	// yet lacks. MinPreviewPasswordLength to MaxPreviewSecretLength bytes.
	Password string `json:"password,omitempty"`
	// BypassSecret lets requests that send it in ProtectionBypassHeader (or
	// VercelProtectionBypassHeader) pass without the password; "" keeps the one set before, if
	// any. At least MinBypassSecretLength bytes.
	BypassSecret string `json:"bypass_secret,omitempty"`
	// NoBypass removes the bypass secret.
	NoBypass bool `json:"no_bypass,omitempty"`
}

// PreviewProtection is a project's protection as answered (Project.PreviewProtection).
type PreviewProtection struct {
	PasswordDigest string `json:"password_digest"`         // see DigestPrefix
	BypassDigest   string `json:"bypass_digest,omitempty"` // "" for no bypass secret
}

// Limits of preview protection's secrets. A bypass secret is a token machines send: long enough
// that guessing it is hopeless even unthrottled.
const (
	MinPreviewPasswordLength = 8
	MinBypassSecretLength    = 32
	MaxPreviewSecretLength   = 256
)

// Headers that carry the bypass secret: ferry's, and Vercel's, which apps and CI written for
// Vercel send. The edge strips both before the app sees the request.
const (
	ProtectionBypassHeader       = "X-Ferry-Protection-Bypass"
	VercelProtectionBypassHeader = "X-Vercel-Protection-Bypass"
)

// On a protected host, the edge's password form posts to ProtectionPath, and a right password
// sets ProtectionCookie (that host's alone, HttpOnly). The app sees neither.
const (
	ProtectionPath   = "/.well-known/ferry-protection"
	ProtectionCookie = "_ferry_protection"
)
