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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

var (
	_ resource.Resource                = (*projectResource)(nil)
	_ resource.ResourceWithConfigure   = (*projectResource)(nil)
	_ resource.ResourceWithImportState = (*projectResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*projectResource)(nil)
)

// NewProjectResource is the ferry_project resource.
func NewProjectResource() resource.Resource { return &projectResource{} }

type projectResource struct {
	data *providerData
}

type projectModel struct {
	ID             types.String `tfsdk:"id"`
	Name           types.String `tfsdk:"name"`
	TeamID         types.String `tfsdk:"team_id"`
	Framework      types.String `tfsdk:"framework"`
	RootDirectory  types.String `tfsdk:"root_directory"`
	InstallCommand types.String `tfsdk:"install_command"`
	BuildCommand   types.String `tfsdk:"build_command"`
	ProductionURL  types.String `tfsdk:"production_url"`
	Limits         *limitsModel `tfsdk:"limits"`
	GitRepository  types.Object `tfsdk:"git_repository"`
	Retention      types.Object `tfsdk:"retention"`
	// PreviewProtection is kept as planned: its secrets are write-only (project_protection.go).
	PreviewProtection types.Object `tfsdk:"preview_protection"`
}

func (r *projectResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_project"
}

func (r *projectResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A project: one deployable Python web app, with its build settings. Its deployments " +
			"(`ferry_deployment`) and environment variables (`ferry_env_var`) refer to it by `id`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The project's id, assigned by the engine.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: fmt.Sprintf("Unique name of the project. It is part of every host name the project's apps are served on "+
					"(`<name>.localhost` for production, `<name>-<id>.localhost` for each deployment), so it must be a DNS label: "+
					"1 to %d lowercase letters, digits and hyphens, not starting or ending with a hyphen. "+
					"Renaming a project updates it in place and moves its URLs.", api.MaxProjectNameLength),
				Validators: []validator.String{validators.ProjectName()},
			},
			"team_id": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "The team that owns the project (a `ferry_team`'s id). Unset: the team of the provider's " +
					"token, or the team `default` for the engine's operator token. Only the operator may move a project to " +
					"another team; that is an update in place.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"framework": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(api.FrameworkAuto),
				MarkdownDescription: "How the app is served: `flask` (a WSGI app), `fastapi` (an ASGI app), or `auto` " +
					"(detected from the source at each build). Defaults to `auto`.",
				Validators: []validator.String{stringvalidator.OneOf(api.FrameworkAuto, api.FrameworkFlask, api.FrameworkFastAPI)},
			},
			"root_directory": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString("."),
				MarkdownDescription: "Directory of the app inside each deployment's source, as a relative path such as `api` " +
					"or `services/web`. Defaults to `.`, the top of the source.",
				Validators: []validator.String{validators.RootDirectory()},
			},
			"install_command": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Command that installs the app's dependencies at build time, instead of the default " +
					"(`pip install -r requirements.txt` when the file exists). `\"\"` or `\"true\"` skips the install.",
			},
			"build_command": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Command run after the install at build time, in the app's directory. Unset: no build step.",
			},
			"limits":             limitsAttribute(),
			"git_repository":     gitRepositoryAttribute(),
			"retention":          retentionAttribute(),
			"preview_protection": previewProtectionAttribute(),
			"production_url": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "URL of the project's production alias (scheme, host and port), such as `http://hello.localhost:8080`. " +
					"It serves the newest ready production deployment.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *projectResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan marks production_url unknown when a rename will move it.
func (r *projectResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var plan, state projectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Name.Equal(state.Name) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("production_url"), types.StringUnknown())...)
	}
}

func (m *projectModel) request(ctx context.Context) (api.ProjectRequest, diag.Diagnostics) {
	repo, diags := gitRepositoryRequest(ctx, m.GitRepository)
	retention, more := retentionRequest(ctx, m.Retention)
	diags.Append(more...)
	return api.ProjectRequest{
		Name:           m.Name.ValueString(),
		Team:           m.TeamID.ValueString(),
		Framework:      m.Framework.ValueString(),
		RootDirectory:  m.RootDirectory.ValueString(),
		InstallCommand: m.InstallCommand.ValueStringPointer(),
		BuildCommand:   m.BuildCommand.ValueStringPointer(),
		Limits:         m.Limits.request(),
		GitRepository:  repo,
		Retention:      retention,
	}, diags
}

func (m *projectModel) fill(p *api.Project) {
	m.ID = types.StringValue(p.ID)
	m.Name = types.StringValue(p.Name)
	m.TeamID = types.StringValue(p.TeamID)
	m.Framework = types.StringValue(p.Framework)
	if p.Framework == "" {
		m.Framework = types.StringValue(api.FrameworkAuto)
	}
	m.RootDirectory = types.StringValue(p.RootDirectory)
	if p.RootDirectory == "" {
		m.RootDirectory = types.StringValue(".")
	}
	m.InstallCommand = types.StringPointerValue(p.InstallCommand)
	m.BuildCommand = types.StringPointerValue(p.BuildCommand)
	m.ProductionURL = types.StringValue(p.ProductionURL)
	m.Limits = limitsFrom(p.Limits)
	m.GitRepository = gitRepositoryValue(p.GitRepository, m.GitRepository)
	m.Retention = retentionValue(p.Retention)
}

func (r *projectResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config projectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	request, diags := plan.request(ctx)
	resp.Diagnostics.Append(diags...)
	request.PreviewProtection, diags = protectionRequest(ctx, plan.PreviewProtection, types.ObjectNull(protectionAttrTypes), config.PreviewProtection)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "creating project", map[string]any{"name": plan.Name.ValueString()})
	p, err := r.data.Client.CreateProject(ctx, request)
	if err != nil {
		addProjectError(&resp.Diagnostics, "create", plan.Name.ValueString(), err)
		return
	}
	tflog.Info(ctx, "created project", map[string]any{"id": p.ID, "production_url": p.ProductionURL})
	plan.fill(p)
	resp.Diagnostics.Append(rememberProtection(ctx, resp.Private, p)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *projectResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state projectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The id may be a name right after import; the engine takes either.
	p, err := r.data.Client.GetProject(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "project is gone from the engine; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read project", fmt.Sprintf("Reading project %s: %v", state.ID.ValueString(), err))
		return
	}
	state.fill(p)
	protection, diags := protectionDrift(ctx, state.PreviewProtection, req.Private, p)
	resp.Diagnostics.Append(diags...)
	state.PreviewProtection = protection
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *projectResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config projectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	request, diags := plan.request(ctx)
	resp.Diagnostics.Append(diags...)
	request.PreviewProtection, diags = protectionRequest(ctx, plan.PreviewProtection, state.PreviewProtection, config.PreviewProtection)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "updating project", map[string]any{"id": state.ID.ValueString(), "name": plan.Name.ValueString()})
	p, err := r.data.Client.UpdateProject(ctx, state.ID.ValueString(), request)
	if err != nil {
		addProjectError(&resp.Diagnostics, "update", plan.Name.ValueString(), err)
		return
	}
	plan.fill(p)
	resp.Diagnostics.Append(rememberProtection(ctx, resp.Private, p)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *projectResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state projectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "deleting project", map[string]any{"id": state.ID.ValueString()})
	err := r.data.Client.DeleteProject(ctx, state.ID.ValueString())
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete project", fmt.Sprintf("Deleting project %s (%s): %v", state.Name.ValueString(), state.ID.ValueString(), err))
	}
}

// ImportState takes a project's name or id.
func (r *projectResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

func addProjectError(diags interface{ AddError(string, string) }, op, name string, err error) {
	switch {
	case client.IsConflict(err):
		diags.AddError("Project name already taken",
			fmt.Sprintf("The engine refused to %s project %q: %v\n\nProject names are unique. Choose another name, "+
				"or bring the existing project under Terraform with `terraform import ferry_project.<name> %s`.", op, name, err, name))
	default:
		diags.AddError("Cannot "+op+" project", fmt.Sprintf("The engine refused to %s project %q: %v", op, name, err))
	}
}
