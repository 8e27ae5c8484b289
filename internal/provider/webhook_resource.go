package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

var (
	_ resource.Resource                = (*webhookResource)(nil)
	_ resource.ResourceWithConfigure   = (*webhookResource)(nil)
	_ resource.ResourceWithImportState = (*webhookResource)(nil)
)

// NewWebhookResource is the ferry_webhook resource.
func NewWebhookResource() resource.Resource { return &webhookResource{} }

type webhookResource struct {
	data *providerData
}

type webhookModel struct {
	ID              types.String `tfsdk:"id"`
	TeamID          types.String `tfsdk:"team_id"`
	URL             types.String `tfsdk:"url"`
	Events          types.Set    `tfsdk:"events"`
	Projects        types.Set    `tfsdk:"projects"`
	SecretWO        types.String `tfsdk:"secret_wo"`
	SecretWOVersion types.Int64  `tfsdk:"secret_wo_version"`
}

func (r *webhookResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (r *webhookResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A webhook of a team: the engine POSTs each event it subscribes to (JSON shaped as Vercel's: `id`, " +
			"`type`, `createdAt` in milliseconds, `payload`) to `url`, signed with its secret: `X-Ferry-Signature: sha256=<hex " +
			"HMAC-SHA256 of the body>` and, for receivers written for Vercel, `x-vercel-signature: <hex HMAC-SHA1 of the body>`. " +
			"`X-Ferry-Delivery` is the event's id: a receiver dedupes by it. A delivery that does not get a 2xx answer within " +
			"10 s is retried with exponential backoff for up to a day; a webhook's events arrive in order. " +
			"Managing webhooks needs an admin token of the team (not limited to projects). Needs Terraform 1.11 or later (write-only secret).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The webhook's id, assigned by the engine.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"team_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Id of the team (`ferry_team.NAME.id`) whose events the webhook hears. Changing it replaces the webhook.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"url": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The http:// or https:// URL events are POSTed to.",
				Validators:          []validator.String{validators.WebhookURL()},
			},
			"events": schema.SetAttribute{
				ElementType:         types.StringType,
				Required:            true,
				MarkdownDescription: "Events to send: any of `" + strings.Join(api.WebhookEvents, "`, `") + "`.",
				Validators:          []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validators.WebhookEvent())},
			},
			"projects": schema.SetAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Ids of the team's projects whose events are sent; unset: every project of the team.",
			},
			"secret_wo": schema.StringAttribute{
				Required:  true,
				WriteOnly: true,
				Sensitive: true,
				MarkdownDescription: "The secret deliveries are signed with, at least 16 characters (`openssl rand -hex 32` makes one). " +
					"Write-only: never stored in Terraform's state, nor answered by the engine. Sent on create, and on update when " +
					"`secret_wo_version` changes.",
				Validators: []validator.String{validators.WebhookSecret()},
			},
			"secret_wo_version": schema.Int64Attribute{
				Required: true,
				MarkdownDescription: "Version of `secret_wo`: change it (for example increment it) to send the current `secret_wo` " +
					"to the engine, which signs with it from then on.",
			},
		},
	}
}

func (r *webhookResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// request is the engine request of plan, with the secret of config when sendSecret.
func (r *webhookResource) request(ctx context.Context, plan, config *webhookModel, sendSecret bool) (api.WebhookRequest, diag.Diagnostics) {
	var diags diag.Diagnostics
	req := api.WebhookRequest{URL: plan.URL.ValueString()}
	diags.Append(plan.Events.ElementsAs(ctx, &req.Events, false)...)
	if !plan.Projects.IsNull() {
		diags.Append(plan.Projects.ElementsAs(ctx, &req.Projects, false)...)
	}
	if sendSecret {
		req.Secret = config.SecretWO.ValueString()
	}
	return req, diags
}

// setState copies what the engine answered into m; the secret stays out of state.
func setWebhookState(ctx context.Context, m *webhookModel, w *api.Webhook) diag.Diagnostics {
	var diags, d diag.Diagnostics
	m.ID, m.TeamID, m.URL = types.StringValue(w.ID), types.StringValue(w.TeamID), types.StringValue(w.URL)
	events := append([]string{}, w.Events...)
	sort.Strings(events)
	m.Events, d = types.SetValueFrom(ctx, types.StringType, events)
	diags.Append(d...)
	if len(w.Projects) == 0 {
		m.Projects = types.SetNull(types.StringType)
	} else {
		m.Projects, d = types.SetValueFrom(ctx, types.StringType, w.Projects)
		diags.Append(d...)
	}
	m.SecretWO = types.StringNull()
	return diags
}

func (r *webhookResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body, diags := r.request(ctx, &plan, &config, true)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "creating webhook", map[string]any{"team": plan.TeamID.ValueString(), "events": body.Events})
	w, err := r.data.Client.CreateWebhook(ctx, plan.TeamID.ValueString(), body)
	if err != nil {
		resp.Diagnostics.AddError("Cannot create webhook", fmt.Sprintf("The engine refused to create the webhook of team %s: %v", plan.TeamID.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(setWebhookState(ctx, &plan, w)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *webhookResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	w, err := r.data.Client.GetWebhook(ctx, state.TeamID.ValueString(), state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "webhook is gone from the engine; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read webhook", fmt.Sprintf("Reading webhook %s: %v", state.ID.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(setWebhookState(ctx, &state, w)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *webhookResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	newSecret := !plan.SecretWOVersion.Equal(state.SecretWOVersion)
	body, diags := r.request(ctx, &plan, &config, newSecret)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "updating webhook", map[string]any{"id": state.ID.ValueString(), "new_secret": newSecret})
	w, err := r.data.Client.UpdateWebhook(ctx, state.TeamID.ValueString(), state.ID.ValueString(), body)
	if err != nil {
		resp.Diagnostics.AddError("Cannot update webhook", fmt.Sprintf("Updating webhook %s: %v", state.ID.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(setWebhookState(ctx, &plan, w)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *webhookResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "deleting webhook", map[string]any{"id": state.ID.ValueString()})
	if err := r.data.Client.DeleteWebhook(ctx, state.TeamID.ValueString(), state.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete webhook", fmt.Sprintf("Deleting webhook %s: %v", state.ID.ValueString(), err))
	}
}

// ImportState takes <team id>/<webhook id>. The secret cannot be read back: the first apply
// after an import sends secret_wo.
func (r *webhookResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	team, id, ok := strings.Cut(req.ID, "/")
	if !ok || team == "" || id == "" || strings.Contains(id, "/") {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q is not <team id>/<webhook id>: give both, such as team_abc123/hook_def456 (`ferry webhooks ls --team TEAM` shows the ids)", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("team_id"), team)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
}
