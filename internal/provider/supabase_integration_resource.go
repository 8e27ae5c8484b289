package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

var (
	_ resource.Resource                     = (*supabaseIntegrationResource)(nil)
	_ resource.ResourceWithConfigure        = (*supabaseIntegrationResource)(nil)
	_ resource.ResourceWithImportState      = (*supabaseIntegrationResource)(nil)
	_ resource.ResourceWithConfigValidators = (*supabaseIntegrationResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*supabaseIntegrationResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*supabaseIntegrationResource)(nil)
)

// privateSecretDigests holds the engine's digests of the secrets last
// written or read, by attribute name, so that a change behind Terraform's
// back shows in plan.
const privateSecretDigests = "engine_secret_digests"

// NewSupabaseIntegrationResource is the ferry_supabase_integration resource.
func NewSupabaseIntegrationResource() resource.Resource { return &supabaseIntegrationResource{} }

type supabaseIntegrationResource struct {
	data *providerData
}

type supabaseIntegrationModel struct {
	ID                        types.String `tfsdk:"id"`
	ProjectID                 types.String `tfsdk:"project_id"`
	ConnectionString          types.String `tfsdk:"connection_string"`
	ConnectionStringWO        types.String `tfsdk:"connection_string_wo"`
	ConnectionStringWOVersion types.Int64  `tfsdk:"connection_string_wo_version"`
	Driver                    types.String `tfsdk:"driver"`
	PoolMode                  types.String `tfsdk:"pool_mode"`
	Target                    types.Set    `tfsdk:"target"`
	GitBranch                 types.String `tfsdk:"git_branch"`
	SupabaseURL               types.String `tfsdk:"supabase_url"`
	AnonKey                   types.String `tfsdk:"anon_key"`
	ServiceRoleKey            types.String `tfsdk:"service_role_key"`
	JWTSecret                 types.String `tfsdk:"jwt_secret"`
	Verify                    types.Bool   `tfsdk:"verify"`
	Changes                   types.List   `tfsdk:"changes"`
}

func (r *supabaseIntegrationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_supabase_integration"
}

func driverNames() []string {
	names := make([]string, len(dburl.Drivers))
	for i, d := range dburl.Drivers {
		names[i] = string(d)
	}
	return names
}

func poolModeNames() []string {
	names := make([]string, len(dburl.PoolModes))
	for i, m := range dburl.PoolModes {
		names[i] = string(m)
	}
	return names
}

func (r *supabaseIntegrationResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	sensitiveKey := func(what string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional:            true,
			Sensitive:           true,
			MarkdownDescription: what + " Stored in Terraform's state, marked sensitive; encrypted at rest by the engine.",
			Validators:          []validator.String{validators.EnvValue()},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Supabase (PostgreSQL) database for a project's deployments, wired in the way Vercel's Supabase " +
			"integration does it, but made to work by construction. The connection string is taken as Supabase's dashboard gives " +
			"it (`supa=`, `sslmode=require`, `pgbouncer=true` and all) and made right for the app's driver and pool mode: " +
			"parameters the driver does not read are removed, the ones it needs kept or translated, the scheme set for SQLAlchemy, " +
			"the pooler's port set for the pool mode. Where a URL cannot make a driver safe for the transaction pooler (asyncpg's " +
			"statement cache, psycopg's prepared statements), the deployment's runtime sets the driver up before the app is " +
			"imported, with no change to the app. `changes` says what was done.\n\n" +
			"Deployments of the targets get `DATABASE_URL`, `POSTGRES_URL` (the same), `POSTGRES_URL_NON_POOLING` (the session " +
			"pooler, or the direct connection), `POSTGRES_PRISMA_URL`, `POSTGRES_HOST`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, " +
			"`POSTGRES_DATABASE`, and `SUPABASE_URL`, `SUPABASE_ANON_KEY`, `SUPABASE_SERVICE_ROLE_KEY`, `SUPABASE_JWT_SECRET` when " +
			"given. A `ferry_env_var` may not set one of these for the same target. As with env vars, a change reaches new " +
			"deployments only.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The integration's id, assigned by the engine.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Id of the project (`ferry_project.<name>.id`). Changing it replaces the integration.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"connection_string": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "The database's connection string as Supabase's dashboard gives it (Connect), such as " +
					"`postgresql://postgres.<ref>:<password>@aws-0-<region>.pooler.supabase.com:6543/postgres`. Stored in Terraform's " +
					"state, marked sensitive. Exactly one of `connection_string` and `connection_string_wo` must be set.",
			},
			"connection_string_wo": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
				MarkdownDescription: "The connection string, write-only: sent to the engine but never stored in Terraform's plan or " +
					"state (requires Terraform 1.11 or later). Change `connection_string_wo_version` to send a new one.",
				Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("connection_string_wo_version"))},
			},
			"connection_string_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Version of `connection_string_wo`, required with it: change it to send the current value. " +
					"When the engine's value no longer matches the one last sent, plan shows this attribute changing.",
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("connection_string_wo"))},
			},
			"driver": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The Python library the app opens the database with: `" + strings.Join(driverNames(), "`, `") +
					"` (psycopg 3 is `psycopg`; `sqlalchemy+psycopg` needs SQLAlchemy 2.0).",
				Validators: []validator.String{stringvalidator.OneOf(driverNames()...)},
			},
			"pool_mode": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "How connections reach the database: `transaction` (Supabase's pooler on port 6543, what " +
					"serverless apps should use), `session` (the pooler on port 5432) or `direct` (the database itself, " +
					"`db.<ref>.supabase.co:5432`). On Supabase's pooler the port is set to match. Defaults to `transaction` for a " +
					"pooler URL, whatever the driver: ferry makes every driver safe there. For a direct URL the default is `direct`; " +
					"for another host, `direct` on port 5432 and `transaction` on any other port.",
				Validators: []validator.String{stringvalidator.OneOf(poolModeNames()...)},
			},
			"target": schema.SetAttribute{
				Required:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Deployment targets that get the database: one or more of `production`, `preview` and `development`.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(allTargets...)),
				},
			},
			"git_branch": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Limits the integration to preview deployments of one git branch (with `target = [\"preview\"]`), " +
					"such as a Supabase branch's database for that branch. A preview of a branch that has an integration of its own " +
					"gets none of the project's other integrations, so it never reaches production's database. Applied once " +
					"deployments carry their git branch.",
			},
			"supabase_url": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "The project's URL, `https://<ref>.supabase.co`, injected as `SUPABASE_URL`.",
			},
			"anon_key":         sensitiveKey("The project's anon (publishable) key, injected as `SUPABASE_ANON_KEY`."),
			"service_role_key": sensitiveKey("The project's service role (secret) key, injected as `SUPABASE_SERVICE_ROLE_KEY`."),
			"jwt_secret":       sensitiveKey("The project's JWT secret, injected as `SUPABASE_JWT_SECRET`."),
			"verify": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether the engine connects to the database (through the chosen pool mode) before it stores " +
					"the integration, on create and update. A failure says what is wrong (authentication, host unreachable, TLS, " +
					"missing database) and changes nothing. Defaults to `false`.",
			},
			"changes": schema.ListAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "What was removed, added or changed in the connection string for the driver and pool mode, " +
					"and what the runtime sets in the driver, one line each, with why; never the password. Known at plan time.",
			},
		},
	}
}

func (r *supabaseIntegrationResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("connection_string"), path.MatchRoot("connection_string_wo")),
	}
}

// connectionString returns the configured connection string (from
// connection_string, else connection_string_wo), the attribute it came
// from, and whether it is known.
func (m *supabaseIntegrationModel) connectionString() (string, path.Path, bool) {
	if !m.ConnectionString.IsNull() {
		return m.ConnectionString.ValueString(), path.Root("connection_string"), !m.ConnectionString.IsUnknown()
	}
	return m.ConnectionStringWO.ValueString(), path.Root("connection_string_wo"), !m.ConnectionStringWO.IsUnknown() && !m.ConnectionStringWO.IsNull()
}

// ValidateConfig refuses at plan time what the engine would refuse at apply.
func (r *supabaseIntegrationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config supabaseIntegrationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	raw, at, known := config.connectionString()
	driver, mode := config.Driver.ValueString(), config.PoolMode.ValueString()
	if known && raw != "" && !config.Driver.IsUnknown() && dburl.DriverProblem(driver) == "" && !config.PoolMode.IsUnknown() &&
		(mode == "" || dburl.PoolModeProblem(mode) == "") {
		if _, err := dburl.Sanitize(raw, dburl.Driver(driver), dburl.PoolMode(mode)); err != nil {
			resp.Diagnostics.AddAttributeError(at, "Unusable connection string", err.Error())
		}
	}
	if p := api.SupabaseURLProblem(config.SupabaseURL.ValueString()); p != "" && !config.SupabaseURL.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("supabase_url"), "Invalid Supabase URL", p)
	}
	if config.GitBranch.IsNull() || config.GitBranch.IsUnknown() {
		return
	}
	branch := config.GitBranch.ValueString()
	if p := api.GitBranchProblem(branch); p != "" {
		resp.Diagnostics.AddAttributeError(path.Root("git_branch"), "Invalid git branch", p)
		return
	}
	var targets []string
	if !config.Target.IsUnknown() {
		resp.Diagnostics.Append(config.Target.ElementsAs(ctx, &targets, false)...)
		if !slices.Equal(targets, []string{api.TargetPreview}) {
			resp.Diagnostics.AddAttributeError(path.Root("git_branch"), "git_branch needs target = [\"preview\"]",
				fmt.Sprintf("git_branch %q limits the integration to preview deployments of that branch; production and "+
					"development deployments have no branch of their own. Set target = [\"preview\"], and give production its own "+
					"ferry_supabase_integration without git_branch.", branch))
			return
		}
	}
	resp.Diagnostics.AddAttributeWarning(path.Root("git_branch"), "Branch integrations wait for deployments with a git branch",
		fmt.Sprintf("The integration for git branch %q is stored, but deployments carry no git branch until git sources "+
			"land, so it reaches no deployment yet; previews get the integrations without git_branch meanwhile.", branch))
}

// ModifyPlan works out pool_mode and changes from the configuration, with
// the engine's own rules, so that the plan shows what apply will do.
func (r *supabaseIntegrationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var config, plan supabaseIntegrationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	raw, _, known := config.connectionString()
	if !known || config.Driver.IsUnknown() || config.PoolMode.IsUnknown() {
		if config.PoolMode.IsNull() {
			plan.PoolMode = types.StringUnknown()
		}
		plan.Changes = types.ListUnknown(types.StringType)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	result, err := dburl.Sanitize(raw, dburl.Driver(config.Driver.ValueString()), dburl.PoolMode(config.PoolMode.ValueString()))
	if err != nil {
		return // ValidateConfig reported it
	}
	plan.PoolMode = types.StringValue(string(result.PoolMode))
	changes, diags := types.ListValueFrom(ctx, types.StringType, nonNil(result.Changes))
	resp.Diagnostics.Append(diags...)
	plan.Changes = changes
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func nonNil(lines []string) []string {
	if lines == nil {
		return []string{}
	}
	return lines
}

func (r *supabaseIntegrationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// request builds the engine request from the plan, with the connection
// string from connection_string or, when that is null, connection_string_wo
// in the configuration.
func (r *supabaseIntegrationResource) request(ctx context.Context, plan, config *supabaseIntegrationModel) (api.SupabaseIntegrationRequest, diag.Diagnostics) {
	var targets []string
	diags := plan.Target.ElementsAs(ctx, &targets, false)
	sort.Strings(targets)
	connection := plan.ConnectionString.ValueString()
	if plan.ConnectionString.IsNull() {
		connection = config.ConnectionStringWO.ValueString()
	}
	return api.SupabaseIntegrationRequest{
		ConnectionString: connection,
		Driver:           plan.Driver.ValueString(),
		PoolMode:         plan.PoolMode.ValueString(),
		Targets:          targets,
		GitBranch:        plan.GitBranch.ValueString(),
		SupabaseURL:      plan.SupabaseURL.ValueString(),
		AnonKey:          plan.AnonKey.ValueString(),
		ServiceRoleKey:   plan.ServiceRoleKey.ValueString(),
		JWTSecret:        plan.JWTSecret.ValueString(),
		Verify:           plan.Verify.ValueBool(),
	}, diags
}

// fill copies the engine's view into m; secrets stay as they are.
func (m *supabaseIntegrationModel) fill(ctx context.Context, i *api.SupabaseIntegration) diag.Diagnostics {
	m.ID = types.StringValue(i.ID)
	if m.ProjectID.IsNull() || m.ProjectID.IsUnknown() {
		m.ProjectID = types.StringValue(i.ProjectID)
	}
	m.Driver = types.StringValue(i.Driver)
	m.PoolMode = types.StringValue(i.PoolMode)
	targets, diags := types.SetValueFrom(ctx, types.StringType, i.Targets)
	m.Target = targets
	m.GitBranch = optionalString(i.GitBranch, m.GitBranch)
	m.SupabaseURL = optionalString(i.SupabaseURL, m.SupabaseURL)
	changes, more := types.ListValueFrom(ctx, types.StringType, nonNil(i.Changes))
	m.Changes = changes
	if m.Verify.IsNull() || m.Verify.IsUnknown() {
		m.Verify = types.BoolValue(false)
	}
	return append(diags, more...)
}

// secretDigests are the engine's digests of an integration's secrets, by attribute.
func secretDigests(i *api.SupabaseIntegration) map[string]string {
	return map[string]string{
		"connection_string": i.ConnectionStringDigest,
		"anon_key":          i.AnonKeyDigest,
		"service_role_key":  i.ServiceRoleKeyDigest,
		"jwt_secret":        i.JWTSecretDigest,
	}
}

func rememberSecretDigests(ctx context.Context, private privateState, i *api.SupabaseIntegration) diag.Diagnostics {
	b, _ := json.Marshal(secretDigests(i))
	return private.SetKey(ctx, privateSecretDigests, b)
}

func (r *supabaseIntegrationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config supabaseIntegrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID := plan.ProjectID.ValueString()
	r.write(ctx, "create", &plan, &config, resp.Private, &resp.State, &resp.Diagnostics, func(body api.SupabaseIntegrationRequest) (*api.SupabaseIntegration, error) {
		return r.data.Client.CreateSupabaseIntegration(ctx, projectID, body)
	})
}

// write sends the plan to the engine with send, a create or an update, and
// records the engine's answer in state.
func (r *supabaseIntegrationResource) write(ctx context.Context, op string, plan, config *supabaseIntegrationModel, private privateState, state *tfsdk.State,
	diags *diag.Diagnostics, send func(api.SupabaseIntegrationRequest) (*api.SupabaseIntegration, error)) {
	body, more := r.request(ctx, plan, config)
	diags.Append(more...)
	if diags.HasError() {
		return
	}
	projectID := plan.ProjectID.ValueString()
	tflog.Info(ctx, op+" Supabase integration", map[string]any{"project_id": projectID, "id": plan.ID.ValueString(),
		"driver": body.Driver, "pool_mode": body.PoolMode, "target": body.Targets, "verify": body.Verify})
	i, err := send(body)
	if err != nil {
		addSupabaseError(diags, op, projectID, err)
		return
	}
	diags.Append(plan.fill(ctx, i)...)
	plan.ConnectionStringWO = types.StringNull()
	diags.Append(rememberSecretDigests(ctx, private, i)...)
	diags.Append(state.Set(ctx, plan)...)
}

func (r *supabaseIntegrationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state supabaseIntegrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID, id := state.ProjectID.ValueString(), state.ID.ValueString()
	i, err := r.data.Client.GetSupabaseIntegration(ctx, projectID, id, false)
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "Supabase integration is gone from the engine; removing it from state", map[string]any{"project_id": projectID, "id": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read Supabase integration", fmt.Sprintf("Reading Supabase integration %s of project %s: %v", id, projectID, err))
		return
	}
	resp.Diagnostics.Append(state.fill(ctx, i)...)

	raw, diags := req.Private.GetKey(ctx, privateSecretDigests)
	resp.Diagnostics.Append(diags...)
	recorded := map[string]string{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &recorded)
	}
	engine := secretDigests(i)
	changed := func(attribute string) bool {
		// Nothing recorded: just imported, and nothing in state to compare with.
		return len(recorded) == 0 || recorded[attribute] != engine[attribute]
	}
	if changed("connection_string") || changed("anon_key") || changed("service_role_key") || changed("jwt_secret") {
		decrypted, err := r.data.Client.GetSupabaseIntegration(ctx, projectID, id, true)
		if err != nil {
			resp.Diagnostics.AddError("Cannot read Supabase integration secrets", fmt.Sprintf("Reading the secrets of Supabase integration %s: %v", id, err))
			return
		}
		if changed("connection_string") {
			if state.ConnectionStringWOVersion.IsNull() || len(recorded) == 0 {
				state.ConnectionString = types.StringValue(decrypted.ConnectionString)
			} else {
				// The write-only value is not in state: a null version makes plan send it again.
				tflog.Info(ctx, "Supabase integration connection string changed outside Terraform", map[string]any{"id": id})
				state.ConnectionStringWOVersion = types.Int64Null()
			}
		}
		for _, key := range []struct {
			attribute string
			state     *types.String
			engine    string
		}{
			{"anon_key", &state.AnonKey, decrypted.AnonKey},
			{"service_role_key", &state.ServiceRoleKey, decrypted.ServiceRoleKey},
			{"jwt_secret", &state.JWTSecret, decrypted.JWTSecret},
		} {
			if changed(key.attribute) {
				*key.state = optionalString(key.engine, *key.state)
			}
		}
		engine = secretDigests(decrypted)
	}
	b, _ := json.Marshal(engine)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateSecretDigests, b)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *supabaseIntegrationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config supabaseIntegrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID, id := state.ProjectID.ValueString(), state.ID.ValueString()
	r.write(ctx, "update", &plan, &config, resp.Private, &resp.State, &resp.Diagnostics, func(body api.SupabaseIntegrationRequest) (*api.SupabaseIntegration, error) {
		return r.data.Client.UpdateSupabaseIntegration(ctx, projectID, id, body)
	})
}

func (r *supabaseIntegrationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state supabaseIntegrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID, id := state.ProjectID.ValueString(), state.ID.ValueString()
	tflog.Info(ctx, "deleting Supabase integration", map[string]any{"project_id": projectID, "id": id})
	if err := r.data.Client.DeleteSupabaseIntegration(ctx, projectID, id); err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete Supabase integration", fmt.Sprintf("Deleting Supabase integration %s of project %s: %v", id, projectID, err))
	}
}

// ImportState takes "project/target" or "project/target/git_branch": the
// project by name or id, one of the integration's targets, and its branch.
func (r *supabaseIntegrationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	parts := strings.SplitN(req.ID, "/", 3)
	if len(parts) < 2 || parts[0] == "" || !slices.Contains(allTargets, parts[1]) || (len(parts) == 3 && parts[2] == "") {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("Import a Supabase integration as project/target, or project/target/git_branch for one limited to a branch, "+
				"such as hello/production, with the project's name or id and one of the integration's targets (%s); got %q.",
				strings.Join(allTargets, ", "), req.ID))
		return
	}
	projectRef, target, branch := parts[0], parts[1], ""
	if len(parts) == 3 {
		branch = parts[2]
	}
	p, err := r.data.Client.GetProject(ctx, projectRef)
	if err != nil {
		resp.Diagnostics.AddError("Cannot import Supabase integration", fmt.Sprintf("Finding project %q: %v", projectRef, err))
		return
	}
	list, err := r.data.Client.ListSupabaseIntegrations(ctx, p.ID, false)
	if err != nil {
		resp.Diagnostics.AddError("Cannot import Supabase integration", fmt.Sprintf("Listing the Supabase integrations of project %q: %v", projectRef, err))
		return
	}
	for _, i := range list {
		if slices.Contains(i.Targets, target) && i.GitBranch == branch {
			resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), i.ID)...)
			resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), p.ID)...)
			resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("verify"), false)...)
			return
		}
	}
	resp.Diagnostics.AddError("Supabase integration not found",
		fmt.Sprintf("Project %q has no Supabase integration for target %s%s.", projectRef, target, map[bool]string{true: " and git branch " + branch}[branch != ""]))
}

func addSupabaseError(diags *diag.Diagnostics, op, projectID string, err error) {
	e, ok := client.AsError(err)
	switch {
	case client.IsConflict(err):
		diags.AddAttributeError(path.Root("target"), "Environment variable set twice",
			fmt.Sprintf("The engine refused to %s the Supabase integration: %v\n\nRemove the ferry_env_var that sets the same key for "+
				"the same target, or change target on one of them.", op, err))
	case ok && e.Code == api.CodeVerifyFailed:
		diags.AddAttributeError(path.Root("connection_string"), "Cannot connect to the database", err.Error())
	case ok && e.Field != "":
		diags.AddAttributeError(path.Root(e.Field), "Invalid Supabase integration", err.Error())
	default:
		diags.AddError("Cannot "+op+" Supabase integration", fmt.Sprintf("The engine refused to %s the Supabase integration of project %s: %v", op, projectID, err))
	}
}
