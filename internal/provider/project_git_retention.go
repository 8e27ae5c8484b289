package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

// gitRepositoryModel is ferry_project's git_repository.
type gitRepositoryModel struct {
	URL              types.String `tfsdk:"url"`
	ProductionBranch types.String `tfsdk:"production_branch"`
}

var gitRepositoryAttrTypes = map[string]attr.Type{"url": types.StringType, "production_branch": types.StringType}

func gitRepositoryAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "The git repository the project deploys from: a `ferry_deployment` whose `source.git` leaves out " +
			"`url` uses it, and one that leaves out `ref` and `commit` deploys its production branch.",
		Attributes: map[string]schema.Attribute{
			"url": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The repository: an `https://` or `ssh://` URL, `git@host:owner/repo.git`, or the path of a " +
					"repository on the engine's machine.",
			},
			"production_branch": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "The branch production deploys from, such as `main`. Unset: the repository's default branch.",
				Validators:          []validator.String{validators.GitBranch()},
			},
		},
	}
}

func gitRepositoryRequest(ctx context.Context, v types.Object) (*api.GitRepository, diag.Diagnostics) {
	if v.IsNull() || v.IsUnknown() {
		return nil, nil
	}
	var m gitRepositoryModel
	diags := v.As(ctx, &m, sourceAsOptions)
	return &api.GitRepository{URL: engineGitURL(m.URL.ValueString()), ProductionBranch: m.ProductionBranch.ValueString()}, diags
}

// gitRepositoryValue is the engine's repository as the attribute holds it, keeping the URL as
// prior wrote it when it names the same repository (a relative path the engine got absolute).
func gitRepositoryValue(repo *api.GitRepository, prior types.Object) types.Object {
	if repo == nil {
		return types.ObjectNull(gitRepositoryAttrTypes)
	}
	url := types.StringValue(repo.URL)
	if priorURL, ok := prior.Attributes()["url"].(types.String); ok && engineGitURL(priorURL.ValueString()) == repo.URL {
		url = priorURL
	}
	return types.ObjectValueMust(gitRepositoryAttrTypes, map[string]attr.Value{
		"url": url, "production_branch": nullIfEmpty(repo.ProductionBranch),
	})
}

var retentionKinds = []struct{ name, description string }{
	{"production", "Ready production deployments. The newest ten are always kept, and so is the one production serves."},
	{"preview", "Ready preview deployments. One a branch URL serves is kept."},
	{"errored", "Deployments whose build failed."},
	{"canceled", "Deployments canceled before they were ready."},
}

var retentionAttrTypes = map[string]attr.Type{
	"production": types.StringType, "preview": types.StringType, "errored": types.StringType, "canceled": types.StringType,
}

// retentionAttribute: every period defaults to unlimited, so removing one from the
// configuration goes back to keeping everything.
func retentionAttribute() schema.SingleNestedAttribute {
	unlimited := types.StringValue(api.RetentionUnlimited)
	attrs := map[string]schema.Attribute{}
	defaults := map[string]attr.Value{}
	for _, kind := range retentionKinds {
		attrs[kind.name] = schema.StringAttribute{
			Optional: true, Computed: true, Default: stringdefault.StaticString(api.RetentionUnlimited),
			MarkdownDescription: kind.description + " Defaults to `unlimited`.",
			Validators:          []validator.String{validators.RetentionPeriod()},
		}
		defaults[kind.name] = unlimited
	}
	return schema.SingleNestedAttribute{
		Optional: true,
		Computed: true,
		Default:  objectdefault.StaticValue(types.ObjectValueMust(retentionAttrTypes, defaults)),
		MarkdownDescription: "How long the engine keeps the project's deployments, by kind, as Vercel's deployment retention " +
			"policy: `1d`, `1w`, `1m`, `2m`, `3m`, `6m`, `1y`, `2y`, `3y` or `unlimited`, counted from a deployment's creation. " +
			"The engine's housekeeping deletes expired deployments, but never one that a production or branch URL serves. " +
			"A `ferry_deployment` whose deployment was deleted plans its creation again.",
		Attributes: attrs,
	}
}

func retentionRequest(ctx context.Context, v types.Object) (*api.Retention, diag.Diagnostics) {
	if v.IsNull() || v.IsUnknown() {
		return nil, nil
	}
	var m struct {
		Production types.String `tfsdk:"production"`
		Preview    types.String `tfsdk:"preview"`
		Errored    types.String `tfsdk:"errored"`
		Canceled   types.String `tfsdk:"canceled"`
	}
	diags := v.As(ctx, &m, sourceAsOptions)
	return &api.Retention{Production: m.Production.ValueString(), Preview: m.Preview.ValueString(),
		Errored: m.Errored.ValueString(), Canceled: m.Canceled.ValueString()}, diags
}

func retentionValue(r api.Retention) types.Object {
	return types.ObjectValueMust(retentionAttrTypes, map[string]attr.Value{
		"production": types.StringValue(r.Production), "preview": types.StringValue(r.Preview),
		"errored": types.StringValue(r.Errored), "canceled": types.StringValue(r.Canceled),
	})
}
