package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

var (
	_ resource.Resource                = (*teamResource)(nil)
	_ resource.ResourceWithConfigure   = (*teamResource)(nil)
	_ resource.ResourceWithImportState = (*teamResource)(nil)
)

// NewTeamResource is the ferry_team resource.
func NewTeamResource() resource.Resource { return &teamResource{} }

type teamResource struct {
	data *providerData
}

type teamModel struct {
	ID   types.String `tfsdk:"id"`
	Name types.String `tfsdk:"name"`
	Plan types.String `tfsdk:"plan"`
}

func (r *teamResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_team"
}

func (r *teamResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A team: it owns projects (`ferry_project.team_id`), and its tokens (`ferry_team_token`) reach " +
			"only its projects. Creating and deleting teams needs the engine's operator token (or the embedded engine). " +
			"A team that still owns projects cannot be deleted: delete or move them first.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The team's id, assigned by the engine.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Unique name of the team: 1 to 63 lowercase letters, digits and hyphens. Changing it " +
					"replaces the team.",
				Validators:    []validator.String{validators.TeamName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"plan": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The team's plan: `hobby` or `pro`, with the limits Vercel publishes for its plans of those names " +
					"(bandwidth, function GB-hours and build minutes a month; builds at once; max duration, memory, custom domains and " +
					"deployments kept per project; that count is ferry's own: Vercel publishes none). " +
					"Without it the team has no limits. Past its build minutes a team's new deployments are refused; past its builds at " +
					"once they wait in the queue; past a serving " +
					"limit, `hobby` pauses its apps (429) and `pro` warns. Setting it needs the engine's operator token. Changed in place.",
				Validators: []validator.String{stringvalidator.OneOf(planNames()...)},
			},
		},
	}
}

func (r *teamResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (r *teamResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan teamModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "creating team", map[string]any{"name": plan.Name.ValueString()})
	t, err := r.data.Client.CreateTeam(ctx, api.TeamRequest{Name: plan.Name.ValueString()})
	if err != nil {
		resp.Diagnostics.AddError("Cannot create team", fmt.Sprintf("The engine refused to create team %q: %v", plan.Name.ValueString(), err))
		return
	}
	plan.ID, plan.Name = types.StringValue(t.ID), types.StringValue(t.Name)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...) // the team exists: kept in state even if its plan is refused
	if !plan.Plan.IsNull() {
		r.setPlan(ctx, t.ID, plan.Plan.ValueString(), &resp.Diagnostics)
	}
}

// setPlan puts the team on plan ("" for none).
func (r *teamResource) setPlan(ctx context.Context, id, plan string, diags *diag.Diagnostics) {
	tflog.Info(ctx, "setting the team's plan", map[string]any{"id": id, "plan": plan})
	if _, err := r.data.Client.SetTeamPlan(ctx, id, plan); err != nil {
		diags.AddAttributeError(path.Root("plan"), "Cannot set the team's plan", fmt.Sprintf("The engine refused plan %q for team %s: %v", plan, id, err))
	}
}

func (r *teamResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state teamModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The id may be a name right after import; the engine takes either.
	t, err := r.data.Client.GetTeam(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "team is gone from the engine; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read team", fmt.Sprintf("Reading team %s: %v", state.ID.ValueString(), err))
		return
	}
	state.ID, state.Name = types.StringValue(t.ID), types.StringValue(t.Name)
	if t.Plan != "" || !state.Plan.IsNull() {
		state.Plan = types.StringValue(t.Plan) // a plan set outside Terraform shows as drift
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update changes the team's plan: every other attribute replaces the team.
func (r *teamResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state teamModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.setPlan(ctx, state.ID.ValueString(), plan.Plan.ValueString(), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// planNames are the names of the engine's plans.
func planNames() []string {
	names := make([]string, len(api.Plans))
	for i, p := range api.Plans {
		names[i] = p.Name
	}
	return names
}

func (r *teamResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state teamModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "deleting team", map[string]any{"id": state.ID.ValueString()})
	if err := r.data.Client.DeleteTeam(ctx, state.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete team", fmt.Sprintf("Deleting team %s (%s): %v", state.Name.ValueString(), state.ID.ValueString(), err))
	}
}

// ImportState takes a team's name or id.
func (r *teamResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
