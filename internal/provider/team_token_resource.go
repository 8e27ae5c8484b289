package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

var (
	_ resource.Resource                = (*teamTokenResource)(nil)
	_ resource.ResourceWithConfigure   = (*teamTokenResource)(nil)
	_ resource.ResourceWithImportState = (*teamTokenResource)(nil)
)

// NewTeamTokenResource is the ferry_team_token resource.
func NewTeamTokenResource() resource.Resource { return &teamTokenResource{} }

type teamTokenResource struct {
	data *providerData
}

type teamTokenModel struct {
	ID        types.String `tfsdk:"id"`
	TeamID    types.String `tfsdk:"team_id"`
	Name      types.String `tfsdk:"name"`
	Scopes    types.Set    `tfsdk:"scopes"`
	Projects  types.Set    `tfsdk:"projects"`
	ExpiresAt types.String `tfsdk:"expires_at"`
	Token     types.String `tfsdk:"token"`
	Prefix    types.String `tfsdk:"prefix"`
}

func (r *teamTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_team_token"
}

func (r *teamTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An API token of a team, for a CI pipeline or a person: it reaches only the team's projects " +
			"(or the ones listed in `projects`), with the rights of its `scopes`. The engine keeps only a hash of it; its " +
			"value is returned once, when it is created, into the sensitive attribute `token` (as `tfe_team_token` does): " +
			"keep the state where secrets may be kept, or pass the value on at once (to a CI secret store, a second " +
			"provider configuration).\n\n" +
			"**Changing `name`, `scopes`, `projects` or `expires_at` replaces the token**: the old one is revoked and a new " +
			"value is issued, which whatever uses the old one must receive. A token revoked or expired outside Terraform " +
			"leaves the state, so the next apply issues a new one.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The token's id (not its value).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"team_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The team the token belongs to (a `ferry_team`'s id).",
				PlanModifiers:       replace,
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the token, unique in its team: who or what uses it, such as `ci-deploy`.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 100)},
				PlanModifiers:       replace,
			},
			"scopes": schema.SetAttribute{
				Required:    true,
				ElementType: types.StringType,
				MarkdownDescription: "What the token may do: `read` (every read), `deploy` (read, and deployments, promotion, " +
					"rollback, aliases), `admin` (deploy, and project settings, env vars, domains, integrations, the team's tokens).",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(api.Scopes...)),
				},
				PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()},
			},
			"projects": schema.SetAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Ids of the projects of the team the token is limited to (`ferry_project.x.id`). Unset: " +
					"every project of the team, those made later included. A limited token may not create projects or tokens.",
				PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()},
			},
			"expires_at": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "When the token stops working, as an RFC 3339 time such as `2027-01-31T00:00:00Z`. Unset: never.",
				Validators:          []validator.String{validators.Timestamp()},
				PlanModifiers:       replace,
			},
			"token": schema.StringAttribute{
				Computed:            true,
				Sensitive:           true,
				MarkdownDescription: "The token's value, set once when it is created (null after an import: the engine cannot show it again).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"prefix": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The first characters of the value, as `ferry tokens ls` shows them, to tell tokens apart.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *teamTokenResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (r *teamTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan teamTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	request := api.TokenRequest{Name: plan.Name.ValueString()}
	resp.Diagnostics.Append(plan.Scopes.ElementsAs(ctx, &request.Scopes, false)...)
	if !plan.Projects.IsNull() {
		resp.Diagnostics.Append(plan.Projects.ElementsAs(ctx, &request.Projects, false)...)
	}
	if !plan.ExpiresAt.IsNull() {
		at, err := time.Parse(time.RFC3339, plan.ExpiresAt.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("expires_at"), "Invalid time", err.Error())
		}
		request.ExpiresAt = &at
	}
	if resp.Diagnostics.HasError() {
		return
	}
	team := plan.TeamID.ValueString()
	tflog.Info(ctx, "creating team token", map[string]any{"team_id": team, "name": request.Name, "scopes": request.Scopes})
	created, err := r.data.Client.CreateToken(ctx, team, request)
	if err != nil {
		resp.Diagnostics.AddError("Cannot create team token", fmt.Sprintf("The engine refused to create token %q of team %s: %v", request.Name, team, err))
		return
	}
	plan.ID, plan.Prefix = types.StringValue(created.ID), types.StringValue(created.Prefix)
	plan.Token = types.StringValue(created.Value)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *teamTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state teamTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tokens, err := r.data.Client.ListTokens(ctx, state.TeamID.ValueString())
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot read team token", fmt.Sprintf("Listing the tokens of team %s: %v", state.TeamID.ValueString(), err))
		return
	}
	var found *api.Token
	for i, t := range tokens {
		if t.ID == state.ID.ValueString() {
			found = &tokens[i]
		}
	}
	if found == nil || found.RevokedAt != nil || (found.ExpiresAt != nil && !time.Now().Before(*found.ExpiresAt)) {
		tflog.Warn(ctx, "team token is gone, revoked or expired; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	state.Name, state.Prefix = types.StringValue(found.Name), types.StringValue(found.Prefix)
	scopes, diags := types.SetValueFrom(ctx, types.StringType, found.Scopes)
	resp.Diagnostics.Append(diags...)
	state.Scopes = scopes
	if len(found.Projects) > 0 {
		projects, diags := types.SetValueFrom(ctx, types.StringType, found.Projects)
		resp.Diagnostics.Append(diags...)
		state.Projects = projects
	} else {
		state.Projects = types.SetNull(types.StringType)
	}
	// The configured text of expires_at is kept when it names the same time (offsets differ).
	if found.ExpiresAt == nil {
		state.ExpiresAt = types.StringNull()
	} else if was, err := time.Parse(time.RFC3339, state.ExpiresAt.ValueString()); err != nil || !was.Equal(*found.ExpiresAt) {
		state.ExpiresAt = types.StringValue(found.ExpiresAt.UTC().Format(time.RFC3339))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update is never called: every configurable attribute replaces the token.
func (r *teamTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("Team tokens are not updated in place", "Changing a token replaces it; this is a bug of the provider if you see it.")
}

func (r *teamTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state teamTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "revoking team token", map[string]any{"id": state.ID.ValueString()})
	err := r.data.Client.RevokeToken(ctx, state.TeamID.ValueString(), state.ID.ValueString())
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot revoke team token", fmt.Sprintf("Revoking token %s of team %s: %v", state.ID.ValueString(), state.TeamID.ValueString(), err))
	}
}

// ImportState takes `<team>/<token id>`; the value stays unknown to Terraform.
func (r *teamTokenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	team, id, ok := strings.Cut(req.ID, "/")
	if !ok || team == "" || id == "" {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q: import a team token as <team id>/<token id>, for example team_abc/tok_def (ferry tokens ls shows the ids)", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("team_id"), team)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
}
