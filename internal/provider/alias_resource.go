package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

var (
	_ resource.Resource                = (*aliasResource)(nil)
	_ resource.ResourceWithConfigure   = (*aliasResource)(nil)
	_ resource.ResourceWithImportState = (*aliasResource)(nil)
)

// NewAliasResource is the ferry_alias resource.
func NewAliasResource() resource.Resource { return &aliasResource{} }

type aliasResource struct {
	data *providerData
}

type aliasModel struct {
	ID           types.String `tfsdk:"id"`
	ProjectID    types.String `tfsdk:"project_id"`
	DeploymentID types.String `tfsdk:"deployment_id"`
	Hostname     types.String `tfsdk:"hostname"`
	URLs         types.List   `tfsdk:"urls"`
}

func (r *aliasResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_alias"
}

func (r *aliasResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Pins a project's production hostnames to a deployment of your choosing: an instant rollback " +
			"or promotion, with no build. Changing `deployment_id` moves the traffic at once; requests already in flight " +
			"finish on the deployment they started on.\n\n" +
			"While a `ferry_alias` exists, the hostnames it pins stay where it put them: new `ferry_deployment`s with " +
			"`production = true` become READY at their own URLs but no longer move production, so the two never fight in a " +
			"plan. Destroying the alias lets production follow the newest production deployment again.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<project_id>`, or `<project_id>/<hostname>` for an alias of one hostname.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The project whose production hostnames the alias pins.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"deployment_id": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The deployment production serves: a READY deployment of the project, made with " +
					"`production = true` (a preview deployment carries the preview environment). Changing it is updated in place.",
			},
			"hostname": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "One production hostname to pin, such as `my-app.localhost`. Unset: every production " +
					"hostname of the project, as a rollback on Vercel moves all of them.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"urls": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "URLs the alias serves the deployment at.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *aliasResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (m *aliasModel) fill(a *api.Alias) {
	m.ProjectID = types.StringValue(a.ProjectID)
	m.DeploymentID = types.StringValue(a.DeploymentID)
	m.ID = types.StringValue(a.ProjectID)
	if a.Hostname != "" {
		m.ID = types.StringValue(a.ProjectID + "/" + a.Hostname)
		m.Hostname = types.StringValue(a.Hostname)
	}
	urls := make([]attr.Value, len(a.URLs))
	for i, u := range a.URLs {
		urls[i] = types.StringValue(u)
	}
	m.URLs = types.ListValueMust(types.StringType, urls)
}

func (r *aliasResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.pin(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *aliasResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.pin(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

// pin points the planned alias at its deployment and saves the answer as the state.
func (r *aliasResource) pin(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var m aliasModel
	diags.Append(plan.Get(ctx, &m)...)
	if diags.HasError() {
		return
	}
	project, hostname, deployment := m.ProjectID.ValueString(), m.Hostname.ValueString(), m.DeploymentID.ValueString()
	tflog.Info(ctx, "pinning alias", map[string]any{"project_id": project, "hostname": hostname, "deployment_id": deployment})
	a, err := r.data.Client.PinAlias(ctx, project, hostname, deployment)
	if err != nil {
		diags.AddError("Cannot point the alias at the deployment", fmt.Sprintf("Pointing %s of project %s at deployment %s: %v", describeHostname(hostname), project, deployment, err))
		return
	}
	m.fill(a)
	diags.Append(state.Set(ctx, &m)...)
}

func (r *aliasResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state aliasModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	a, err := r.data.Client.GetAlias(ctx, state.ProjectID.ValueString(), state.Hostname.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "alias is gone from the engine; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read alias", fmt.Sprintf("Reading %s of project %s: %v", describeHostname(state.Hostname.ValueString()), state.ProjectID.ValueString(), err))
		return
	}
	if !a.Pinned {
		// Released outside Terraform: production follows new deployments again, so the alias no longer exists.
		tflog.Warn(ctx, "alias was released outside Terraform; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	state.fill(a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *aliasResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state aliasModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "releasing alias", map[string]any{"id": state.ID.ValueString()})
	err := r.data.Client.UnpinAlias(ctx, state.ProjectID.ValueString(), state.Hostname.ValueString())
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot release alias", fmt.Sprintf("Releasing %s of project %s: %v", describeHostname(state.Hostname.ValueString()), state.ProjectID.ValueString(), err))
	}
}

// ImportState takes `<project>` (id or name) or `<project>/<hostname>`.
func (r *aliasResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	project, hostname, _ := strings.Cut(req.ID, "/")
	if project == "" {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q: import an alias as <project> or <project>/<hostname>, for example my-app or my-app/my-app.localhost", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), project)...)
	if hostname != "" {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("hostname"), hostname)...)
	}
}

func describeHostname(hostname string) string {
	if hostname == "" {
		return "the production hostnames"
	}
	return "hostname " + hostname
}
