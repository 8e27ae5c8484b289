package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Private state keys of the engine's digests of the preview password and bypass secret last
// sent or read: a change made outside Terraform shows in plan as a new version to send.
const (
	privatePreviewPasswordDigest = "preview_password_digest"
	privatePreviewBypassDigest   = "preview_bypass_digest"
)

// protectionModel is ferry_project's preview_protection block. The secrets are write-only:
// null in plan and state, read from the configuration when their version changes.
type protectionModel struct {
	PasswordWO            types.String `tfsdk:"password_wo"`
	PasswordWOVersion     types.Int64  `tfsdk:"password_wo_version"`
	BypassSecretWO        types.String `tfsdk:"bypass_secret_wo"`
	BypassSecretWOVersion types.Int64  `tfsdk:"bypass_secret_wo_version"`
}

func previewProtectionAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Ask for a password on the project's previews: every host but its production ones (the production URL and " +
			"the custom domains that follow production), so deployment URLs, production deployments' own included, as Vercel's " +
			"Standard Protection does, and branch URLs. A visitor gets a small password page (401); the right password " +
			"sets a cookie for that host alone, valid 12 hours. Automation passes without it by sending the bypass secret in " +
			"`" + api.ProtectionBypassHeader + "` (or `" + api.VercelProtectionBypassHeader + "`, as Vercel's), which the app never sees. " +
			"Wrong passwords are throttled per client address (10 a minute). Write-only secrets need Terraform 1.11 or later.",
		Attributes: map[string]schema.Attribute{
			"password_wo": schema.StringAttribute{
				Required: true, WriteOnly: true, Sensitive: true,
				MarkdownDescription: fmt.Sprintf("The password, %d to %d characters. Write-only: never stored in Terraform's state; "+
					"sent to the engine when `password_wo_version` changes.", api.MinPreviewPasswordLength, api.MaxPreviewSecretLength),
				Validators: []validator.String{stringvalidator.LengthBetween(api.MinPreviewPasswordLength, api.MaxPreviewSecretLength)},
			},
			"password_wo_version": schema.Int64Attribute{
				Required: true,
				MarkdownDescription: "Version of `password_wo`: change it (for example increment it) to send a new password, which signs " +
					"every visitor out. When the password on the engine no longer matches the one last sent (changed outside Terraform), " +
					"plan shows this attribute changing, and apply sends `password_wo` again.",
			},
			"bypass_secret_wo": schema.StringAttribute{
				Optional: true, WriteOnly: true, Sensitive: true,
				MarkdownDescription: fmt.Sprintf("Secret that lets requests carrying it in `%s` through, for CI and end-to-end tests; "+
					"%d to %d printable ASCII characters without spaces, such as `openssl rand -hex 32` prints. Write-only; unset: no bypass.",
					api.ProtectionBypassHeader, api.MinBypassSecretLength, api.MaxPreviewSecretLength),
				Validators: []validator.String{
					stringvalidator.LengthBetween(api.MinBypassSecretLength, api.MaxPreviewSecretLength),
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("bypass_secret_wo_version")),
				},
			},
			"bypass_secret_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Version of `bypass_secret_wo`, required with it: change it to send a new secret. A change made " +
					"outside Terraform shows as a change of this attribute, as for `password_wo_version`.",
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName("bypass_secret_wo"))},
			},
		},
	}
}

var protectionAttrTypes = map[string]attr.Type{
	"password_wo": types.StringType, "password_wo_version": types.Int64Type,
	"bypass_secret_wo": types.StringType, "bypass_secret_wo_version": types.Int64Type,
}

func protectionOf(ctx context.Context, o types.Object) (*protectionModel, diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return nil, nil
	}
	var m protectionModel
	diags := o.As(ctx, &m, basetypes.ObjectAsOptions{})
	return &m, diags
}

// protectionRequest is what to ask the engine: the secrets of the configuration whose version
// differs from the state's (all of them on create, or when the state had no protection).
func protectionRequest(ctx context.Context, plan, state, config types.Object) (*api.PreviewProtectionRequest, diag.Diagnostics) {
	planned, diags := protectionOf(ctx, plan)
	if planned == nil {
		return nil, diags
	}
	was, more := protectionOf(ctx, state)
	diags.Append(more...)
	configured, more := protectionOf(ctx, config)
	diags.Append(more...)
	if diags.HasError() || configured == nil {
		return nil, diags
	}
	req := &api.PreviewProtectionRequest{}
	if was == nil || !was.PasswordWOVersion.Equal(planned.PasswordWOVersion) {
		req.Password = configured.PasswordWO.ValueString()
	}
	switch {
	case configured.BypassSecretWO.IsNull():
		req.NoBypass = true
	case was == nil || !was.BypassSecretWOVersion.Equal(planned.BypassSecretWOVersion):
		req.BypassSecret = configured.BypassSecretWO.ValueString()
	}
	return req, diags
}

// rememberProtection records the engine's digests of the secrets it now holds.
func rememberProtection(ctx context.Context, private privateState, p *api.Project) diag.Diagnostics {
	var password, bypass string
	if p.PreviewProtection != nil {
		password, bypass = p.PreviewProtection.PasswordDigest, p.PreviewProtection.BypassDigest
	}
	var diags diag.Diagnostics
	for key, digest := range map[string]string{privatePreviewPasswordDigest: password, privatePreviewBypassDigest: bypass} {
		b, _ := json.Marshal(digest)
		diags.Append(private.SetKey(ctx, key, b)...)
	}
	return diags
}

// protectionDrift returns the state's preview_protection as the engine's project shows it: null
// when the engine has none, and a null version for a secret the engine holds another of than the
// one last sent, so that plan shows it to be sent again.
func protectionDrift(ctx context.Context, state types.Object, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}, p *api.Project) (types.Object, diag.Diagnostics) {
	m, diags := protectionOf(ctx, state)
	if m == nil || diags.HasError() {
		return state, diags
	}
	if p.PreviewProtection == nil {
		return types.ObjectNull(protectionAttrTypes), diags
	}
	password, more := privateString(ctx, private, privatePreviewPasswordDigest)
	diags.Append(more...)
	bypass, more := privateString(ctx, private, privatePreviewBypassDigest)
	diags.Append(more...)
	if password != "" && password != p.PreviewProtection.PasswordDigest {
		m.PasswordWOVersion = types.Int64Null()
	}
	if bypass != p.PreviewProtection.BypassDigest && !m.BypassSecretWOVersion.IsNull() {
		m.BypassSecretWOVersion = types.Int64Null()
	}
	o, more := types.ObjectValueFrom(ctx, protectionAttrTypes, m)
	diags.Append(more...)
	return o, diags
}
