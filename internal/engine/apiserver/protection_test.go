package apiserver

import (
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func TestValidatePreviewProtection(t *testing.T) {
	const password, bypass = "hunter2-hunter2", "0123456789abcdef0123456789abcdef"
	current := &store.PreviewProtection{ProjectID: "prj", PasswordDigest: "d"}
	for _, tc := range []struct {
		name    string
		req     api.PreviewProtectionRequest
		current *store.PreviewProtection
		want    string // "" for accepted
	}{
		{"new with a password", api.PreviewProtectionRequest{Password: password}, nil, ""},
		{"new without a password", api.PreviewProtectionRequest{BypassSecret: bypass}, nil, "needs a password"},
		{"kept password", api.PreviewProtectionRequest{BypassSecret: bypass}, current, ""},
		{"short password", api.PreviewProtectionRequest{Password: "seven77"}, nil, "holds 7 bytes: give 8 to 256"},
		{"newline in the password", api.PreviewProtectionRequest{Password: "hunter2\nhunter2"}, nil, "control character"},
		{"short bypass", api.PreviewProtectionRequest{Password: password, BypassSecret: "short-secret"}, nil, "give 32 to 256"},
		{"space in the bypass", api.PreviewProtectionRequest{Password: password, BypassSecret: strings.Replace(bypass, "0", " ", 1)}, nil, "a header cannot carry"},
		{"bypass and no bypass", api.PreviewProtectionRequest{Password: password, BypassSecret: bypass, NoBypass: true}, nil, "both given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validatePreviewProtection(&tc.req, tc.current)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("%v; want %q", err, tc.want)
			case err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "0123456789")):
				t.Fatalf("the message quotes a secret: %v", err)
			}
		})
	}
}
