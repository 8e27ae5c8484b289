package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

var (
	_ datasource.DataSource                     = (*deploymentDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*deploymentDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*deploymentDataSource)(nil)
)

// NewDeploymentDataSource is the ferry_deployment data source.
func NewDeploymentDataSource() datasource.DataSource { return &deploymentDataSource{} }

type deploymentDataSource struct {
	data *providerData
}

type deploymentDataModel struct {
	ID            types.String `tfsdk:"id"`
	ProjectID     types.String `tfsdk:"project_id"`
	Target        types.String `tfsdk:"target"`
	GitBranch     types.String `tfsdk:"git_branch"`
	Status        types.String `tfsdk:"status"`
	URL           types.String `tfsdk:"url"`
	BranchURL     types.String `tfsdk:"branch_url"`
	SourceDigest  types.String `tfsdk:"source_digest"`
	Entrypoint    types.String `tfsdk:"entrypoint"`
	Git           types.Object `tfsdk:"git"`
	EnvDigest     types.String `tfsdk:"env_digest"`
	ReusedBuildOf types.String `tfsdk:"reused_build_of"`
	CreatedAt     types.String `tfsdk:"created_at"`
}

func (d *deploymentDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_deployment"
}

func (d *deploymentDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A deployment, by `id`, or the newest ready deployment of a project's target (and git branch): " +
			"for instance the deployment a CI pipeline made outside this configuration, to point a domain at it or to read its URL.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "The deployment's id. Give it, or `project_id`.",
			},
			"project_id": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "The project (id or name) whose newest ready deployment to read, of `target` and `git_branch`.",
			},
			"target": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "`production` or `preview`: which of the project's deployments to look among. Defaults to `production`.",
				Validators:          []validator.String{stringvalidator.OneOf(api.TargetProduction, api.TargetPreview)},
			},
			"git_branch": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "With `project_id`, only deployments of this git branch.",
				Validators:          []validator.String{validators.GitBranch()},
			},
			"status":          schema.StringAttribute{Computed: true, MarkdownDescription: "`QUEUED`, `BUILDING`, `READY`, `ERROR` or `CANCELED`."},
			"url":             schema.StringAttribute{Computed: true, MarkdownDescription: "The deployment's own URL."},
			"branch_url":      schema.StringAttribute{Computed: true, MarkdownDescription: "The URL of its git branch, if it has one."},
			"source_digest":   schema.StringAttribute{Computed: true, MarkdownDescription: "Digest of its files."},
			"entrypoint":      schema.StringAttribute{Computed: true, MarkdownDescription: "The app it serves, as `module:attribute`."},
			"env_digest":      schema.StringAttribute{Computed: true, MarkdownDescription: "Digest of the env vars it was created with."},
			"reused_build_of": schema.StringAttribute{Computed: true, MarkdownDescription: "For a redeploy, the deployment whose build it serves."},
			"created_at":      schema.StringAttribute{Computed: true, MarkdownDescription: "When it was created, RFC 3339."},
			"git": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The git commit it was built from; null when it was not.",
				Attributes:          gitCommitDataSourceAttributes(),
			},
		},
	}
}

func (d *deploymentDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("project_id")),
		datasourcevalidator.Conflicting(path.MatchRoot("id"), path.MatchRoot("target")),
		datasourcevalidator.Conflicting(path.MatchRoot("id"), path.MatchRoot("git_branch")),
	}
}

func (d *deploymentDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (d *deploymentDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m deploymentDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found *api.Deployment
	if !m.ID.IsNull() {
		got, err := d.data.Client.GetDeployment(ctx, m.ID.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot read the deployment", err.Error())
			return
		}
		found = got
	} else {
		target := api.TargetProduction
		if !m.Target.IsNull() {
			target = m.Target.ValueString()
		}
		newest, err := d.newestReady(ctx, m.ProjectID.ValueString(), target, m.GitBranch.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("project_id"), "Cannot find the deployment", err.Error())
			return
		}
		found = newest
	}
	m.ID = types.StringValue(found.ID)
	m.ProjectID = types.StringValue(found.ProjectID)
	m.Target = types.StringValue(found.Target)
	m.GitBranch = types.StringValue(found.GitBranch)
	m.Status = types.StringValue(found.State)
	m.URL = types.StringValue(found.URL)
	m.BranchURL = types.StringValue(found.BranchURL)
	m.SourceDigest = types.StringValue(found.SourceDigest)
	m.Entrypoint = types.StringValue(found.Entrypoint)
	m.Git = gitCommitValue(found.Git)
	m.EnvDigest = types.StringValue(found.EnvDigest)
	m.ReusedBuildOf = types.StringValue(found.ReusedBuildOf)
	m.CreatedAt = types.StringValue(found.CreatedAt.Format("2006-01-02T15:04:05.000Z07:00"))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// newestReady is the newest READY deployment of a project's target, of branch if one is given.
func (d *deploymentDataSource) newestReady(ctx context.Context, projectRef, target, branch string) (*api.Deployment, error) {
	project, err := d.data.Client.GetProject(ctx, projectRef)
	if err != nil {
		return nil, err
	}
	list, err := d.data.Client.ListDeployments(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	for i := range list { // newest first
		if dep := &list[i]; dep.State == api.StateReady && dep.Target == target && (branch == "" || dep.GitBranch == branch) {
			return dep, nil
		}
	}
	what := target + " deployment"
	if branch != "" {
		what += " of git branch " + branch
	}
	return nil, fmt.Errorf("project %s has no ready %s: deploy one first, or read another with target and git_branch", project.Name, what)
}
