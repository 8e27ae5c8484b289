package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

var (
	_ datasource.DataSource              = (*gitRefDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*gitRefDataSource)(nil)
)

// NewGitRefDataSource is the ferry_git_ref data source.
func NewGitRefDataSource() datasource.DataSource { return &gitRefDataSource{} }

type gitRefDataSource struct {
	data *providerData
}

type gitRefModel struct {
	ProjectID   types.String `tfsdk:"project_id"`
	URL         types.String `tfsdk:"url"`
	Ref         types.String `tfsdk:"ref"`
	Commit      types.String `tfsdk:"commit"`
	Branch      types.String `tfsdk:"branch"`
	Message     types.String `tfsdk:"message"`
	AuthorName  types.String `tfsdk:"author_name"`
	AuthorEmail types.String `tfsdk:"author_email"`
	AuthorLogin types.String `tfsdk:"author_login"`
	CommittedAt types.String `tfsdk:"committed_at"`
}

func (d *gitRefDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_git_ref"
}

func (d *gitRefDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The commit a git branch or tag points at now, as the engine fetches it. Read at every plan, so a push " +
			"shows in `terraform plan`: pass `commit` to a `ferry_deployment`'s `source.git` and the new commit plans a replacement. " +
			"This is how a CI pipeline turns a push into plan and apply.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "A project whose `git_repository` gives `url` and `ref` when they are not set.",
			},
			"url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The repository, as `ferry_deployment`'s `source.git.url` takes it. Defaults to the project's " +
					"`git_repository.url`.",
			},
			"ref": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "A branch, tag, or full ref. Defaults to the project's production branch, else the repository's " +
					"default branch.",
			},
			"commit":       schema.StringAttribute{Computed: true, MarkdownDescription: "The full sha of the commit the ref points at."},
			"branch":       schema.StringAttribute{Computed: true, MarkdownDescription: "The ref's branch name; empty for a tag."},
			"message":      schema.StringAttribute{Computed: true, MarkdownDescription: "The commit message (at most 4 KiB)."},
			"author_name":  schema.StringAttribute{Computed: true, MarkdownDescription: "The commit's author."},
			"author_email": schema.StringAttribute{Computed: true, MarkdownDescription: "The author's email."},
			"author_login": schema.StringAttribute{Computed: true, MarkdownDescription: "The author's login (see `ferry_deployment`'s `git.commit_author_login`)."},
			"committed_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When the commit was made, RFC 3339."},
		},
	}
}

func (d *gitRefDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (d *gitRefDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m gitRefModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	request := api.GitResolveRequest{ProjectID: m.ProjectID.ValueString(),
		GitSource: api.GitSource{URL: engineGitURL(m.URL.ValueString()), Ref: m.Ref.ValueString()}}
	commit, err := d.data.Client.ResolveGit(ctx, request)
	if err != nil {
		resp.Diagnostics.AddError("Cannot resolve the git ref", err.Error())
		return
	}
	tflog.Info(ctx, "git ref resolved", map[string]any{"url": commit.URL, "ref": commit.Ref, "commit": commit.SHA})
	m.Commit = types.StringValue(commit.SHA)
	m.Branch = types.StringValue(commit.Branch)
	m.Message = types.StringValue(commit.Message)
	m.AuthorName = types.StringValue(commit.AuthorName)
	m.AuthorEmail = types.StringValue(commit.AuthorEmail)
	m.AuthorLogin = types.StringValue(commit.AuthorLogin)
	m.CommittedAt = types.StringValue(commit.CommittedAt.Format(time.RFC3339))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
