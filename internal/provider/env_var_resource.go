package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	_ resource.Resource                     = (*envVarResource)(nil)
	_ resource.ResourceWithConfigure        = (*envVarResource)(nil)
	_ resource.ResourceWithImportState      = (*envVarResource)(nil)
	_ resource.ResourceWithConfigValidators = (*envVarResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*envVarResource)(nil)
)

// Private-state keys of an env var.
const (
	// privateValueDigest holds the engine's value_digest of the value last
	// written or read (from value or value_wo), so that a change behind
	// Terraform's back shows in plan. The digest is keyed by the engine: it
	// cannot be computed here, only compared with what the engine reports.
	privateValueDigest = "engine_value_digest"
	// privateLegacyValueWODigest is where earlier versions kept a plain
	// sha256 of value_wo. It is read once to carry such state over, then
	// removed.
	privateLegacyValueWODigest = "value_wo_digest"
)

var allTargets = []string{api.TargetProduction, api.TargetPreview, api.TargetDevelopment}

// NewEnvVarResource is the ferry_env_var resource.
func NewEnvVarResource() resource.Resource { return &envVarResource{} }

type envVarResource struct {
	data *providerData
}

type envVarModel struct {
	ID             types.String `tfsdk:"id"`
	ProjectID      types.String `tfsdk:"project_id"`
	Key            types.String `tfsdk:"key"`
	Value          types.String `tfsdk:"value"`
	ValueWO        types.String `tfsdk:"value_wo"`
	ValueWOVersion types.Int64  `tfsdk:"value_wo_version"`
	Target         types.Set    `tfsdk:"target"`
	GitBranch      types.String `tfsdk:"git_branch"`
	Comment        types.String `tfsdk:"comment"`
}

func (r *envVarResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_env_var"
}

func (r *envVarResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An environment variable of a project, for the deployments of some targets. As on Vercel, a change " +
			"reaches new deployments only: deployments freeze their environment when they are created. Values are encrypted " +
			"at rest by the engine; use `value_wo` to keep a secret out of Terraform's state as well.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The env var's id, assigned by the engine.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Id of the project (`ferry_project.<name>.id`). Changing it replaces the variable.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"key": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Name of the variable, such as `API_KEY`: a letter or underscore, then letters, digits and " +
					"underscores. Names starting with `" + strings.Join(api.ReservedEnvPrefixes, "` or `") +
					"` (in any letter case) are reserved for the variables ferry sets in every deployment, and so are `PATH`, " +
					"`VIRTUAL_ENV`, `PYTHONHOME`, `VERCEL` and `FERRY`.",
				Validators: []validator.String{validators.EnvKey()},
			},
			"value": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "Value of the variable. It is stored in Terraform's state (marked sensitive). " +
					"Exactly one of `value` and `value_wo` must be set. At most 64 KiB. A change made outside Terraform shows as an update in plan.",
				Validators: []validator.String{validators.EnvValue()},
			},
			"value_wo": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
				MarkdownDescription: "Value of the variable, write-only: sent to the engine but never stored in Terraform's plan or state " +
					"(requires Terraform 1.11 or later). Terraform cannot see a change of a write-only value, so change " +
					"`value_wo_version` to send a new one. Exactly one of `value` and `value_wo` must be set.",
				Validators: []validator.String{
					validators.EnvValue(),
					stringvalidator.AlsoRequires(path.MatchRoot("value_wo_version")),
				},
			},
			"value_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Version of `value_wo`, required with it: change it (for example increment it) to send the " +
					"current `value_wo` to the engine. When the value on the engine no longer matches the one last sent " +
					"(it was changed outside Terraform), plan shows this attribute changing, and apply sends `value_wo` again.",
				Validators: []validator.Int64{
					int64validator.AlsoRequires(path.MatchRoot("value_wo")),
				},
			},
			"target": schema.SetAttribute{
				Required:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Deployment targets that get the variable: one or more of `production`, `preview` and `development`. " +
					"A key may be set once per target (and git branch).",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(allTargets...)),
				},
			},
			"git_branch": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Limits the variable to preview deployments of one git branch (deployments whose " +
					"`source.git` names that branch), as on Vercel; it then wins over a variable of the same key for every branch. " +
					"Requires `target = [\"preview\"]`.",
				Validators: []validator.String{validators.GitBranch()},
			},
			"comment": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "A note for people reading the project's variables.",
			},
		},
	}
}

func (r *envVarResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("value"), path.MatchRoot("value_wo")),
	}
}

// ValidateConfig refuses at plan time a git_branch with targets other than
// preview: the engine would refuse it at apply.
func (r *envVarResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var gitBranch types.String
	var target types.Set
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("git_branch"), &gitBranch)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("target"), &target)...)
	if resp.Diagnostics.HasError() || gitBranch.IsNull() || gitBranch.IsUnknown() || target.IsUnknown() || target.IsNull() {
		return
	}
	var targets []string
	resp.Diagnostics.Append(target.ElementsAs(ctx, &targets, false)...)
	if len(targets) == 1 && targets[0] == api.TargetPreview {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("git_branch"), "A branch's variable is for previews only",
		fmt.Sprintf("git_branch %q limits the variable to preview deployments of that branch, as on Vercel, but target is %v. "+
			"Set target = [\"preview\"], or remove git_branch to give the variable to every deployment of its targets.", gitBranch.ValueString(), targets))
}

func (r *envVarResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// request builds the engine request from the plan, taking the value from
// value or, when that is null, from value_wo in the configuration.
func (r *envVarResource) request(ctx context.Context, plan *envVarModel, config *envVarModel) (api.EnvVarRequest, diag.Diagnostics) {
	var diags diag.Diagnostics
	var targets []string
	diags.Append(plan.Target.ElementsAs(ctx, &targets, false)...)
	sort.Strings(targets)
	value := plan.Value.ValueString()
	if plan.Value.IsNull() {
		value = config.ValueWO.ValueString()
	}
	return api.EnvVarRequest{
		Key:       plan.Key.ValueString(),
		Value:     value,
		Targets:   targets,
		GitBranch: plan.GitBranch.ValueString(),
		Comment:   plan.Comment.ValueString(),
	}, diags
}

// fill copies the engine's view into m, keeping "" where m had "" and the
// engine omits empty strings.
func (m *envVarModel) fill(ctx context.Context, e *api.EnvVar) diag.Diagnostics {
	m.ID = types.StringValue(e.ID)
	if m.ProjectID.IsNull() || m.ProjectID.IsUnknown() {
		// Otherwise keep the configured reference, which may be a name.
		m.ProjectID = types.StringValue(e.ProjectID)
	}
	m.Key = types.StringValue(e.Key)
	targets, diags := types.SetValueFrom(ctx, types.StringType, e.Targets)
	m.Target = targets
	m.GitBranch = optionalString(e.GitBranch, m.GitBranch)
	m.Comment = optionalString(e.Comment, m.Comment)
	return diags
}

// privateState is what Create, Read and Update responses share of the
// private state.
type privateState interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}

// rememberDigest records the engine's digest of the value it now holds.
func rememberDigest(ctx context.Context, private privateState, engineDigest string) diag.Diagnostics {
	b, _ := json.Marshal(engineDigest)
	diags := private.SetKey(ctx, privateValueDigest, b)
	diags.Append(private.SetKey(ctx, privateLegacyValueWODigest, nil)...)
	return diags
}

// privateString reads a JSON string kept in private state; "" when absent.
func privateString(ctx context.Context, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}, key string) (string, diag.Diagnostics) {
	raw, diags := private.GetKey(ctx, key)
	var value string
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &value)
	}
	return value, diags
}

func (r *envVarResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config envVarModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body, diags := r.request(ctx, &plan, &config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID := plan.ProjectID.ValueString()
	tflog.Info(ctx, "creating env var", map[string]any{"project_id": projectID, "key": body.Key, "target": body.Targets})
	e, err := r.data.Client.CreateEnvVar(ctx, projectID, body)
	if err != nil {
		addEnvVarError(&resp.Diagnostics, "create", projectID, body, err)
		return
	}
	resp.Diagnostics.Append(plan.fill(ctx, e)...)
	plan.ValueWO = types.StringNull()
	resp.Diagnostics.Append(rememberDigest(ctx, resp.Private, e.ValueDigest)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *envVarResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state envVarModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID, id := state.ProjectID.ValueString(), state.ID.ValueString()
	e, err := r.data.Client.GetEnvVar(ctx, projectID, id, false)
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "env var is gone from the engine; removing it from state", map[string]any{"project_id": projectID, "id": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read environment variable", fmt.Sprintf("Reading env var %s of project %s: %v", id, projectID, err))
		return
	}
	resp.Diagnostics.Append(state.fill(ctx, e)...)

	recorded, diags := privateString(ctx, req.Private, privateValueDigest)
	resp.Diagnostics.Append(diags...)
	legacy, diags := privateString(ctx, req.Private, privateLegacyValueWODigest)
	resp.Diagnostics.Append(diags...)
	// engineDigest goes with the value in state once the engine's value is
	// read, from that same answer.
	var changed bool
	engineDigest := e.ValueDigest
	switch {
	case recorded != "":
		changed = recorded != e.ValueDigest
	case !state.Value.IsNull():
		// No digest recorded yet (state of an earlier version): compare the
		// values themselves, once.
		current, diags := r.engineValue(ctx, &state)
		resp.Diagnostics.Append(diags...)
		changed, engineDigest = current.Value != state.Value.ValueString(), current.ValueDigest
	case legacy != "":
		current, diags := r.engineValue(ctx, &state)
		resp.Diagnostics.Append(diags...)
		changed, engineDigest = plainDigest(current.Value) != legacy, current.ValueDigest
	default:
		// Just imported: neither value nor a digest is known.
		engineDigest, diags = r.readValue(ctx, &state)
		resp.Diagnostics.Append(diags...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	switch {
	case changed && !state.Value.IsNull():
		// Changed outside Terraform: show the engine's value, so that
		// plan offers to put the configured one back.
		tflog.Info(ctx, "env var value changed outside Terraform", map[string]any{"key": e.Key})
		engineDigest, diags = r.readValue(ctx, &state)
		resp.Diagnostics.Append(diags...)
		resp.Diagnostics.Append(rememberDigest(ctx, resp.Private, engineDigest)...)
	case changed:
		// The write-only value is not in state: a null version makes plan
		// show an update that sends value_wo again.
		tflog.Info(ctx, "env var write-only value changed outside Terraform", map[string]any{"key": e.Key})
		state.ValueWOVersion = types.Int64Null()
	default:
		resp.Diagnostics.Append(rememberDigest(ctx, resp.Private, engineDigest)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// engineValue returns the variable as the engine holds it, value included.
func (r *envVarResource) engineValue(ctx context.Context, state *envVarModel) (*api.EnvVar, diag.Diagnostics) {
	var diags diag.Diagnostics
	e, err := r.data.Client.GetEnvVar(ctx, state.ProjectID.ValueString(), state.ID.ValueString(), true)
	if err != nil {
		diags.AddError("Cannot read environment variable value", fmt.Sprintf("Reading the value of %s: %v", state.Key.ValueString(), err))
		return &api.EnvVar{}, diags
	}
	return e, diags
}

// readValue sets state.Value to the engine's decrypted value and returns
// the digest of that value.
func (r *envVarResource) readValue(ctx context.Context, state *envVarModel) (string, diag.Diagnostics) {
	e, diags := r.engineValue(ctx, state)
	if !diags.HasError() {
		state.Value = types.StringValue(e.Value)
	}
	return e.ValueDigest, diags
}

func (r *envVarResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config envVarModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body, diags := r.request(ctx, &plan, &config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID, id := state.ProjectID.ValueString(), state.ID.ValueString()
	tflog.Info(ctx, "updating env var", map[string]any{"project_id": projectID, "id": id, "key": body.Key, "target": body.Targets})
	e, err := r.data.Client.UpdateEnvVar(ctx, projectID, id, body)
	if err != nil {
		addEnvVarError(&resp.Diagnostics, "update", projectID, body, err)
		return
	}
	resp.Diagnostics.Append(plan.fill(ctx, e)...)
	plan.ValueWO = types.StringNull()
	resp.Diagnostics.Append(rememberDigest(ctx, resp.Private, e.ValueDigest)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *envVarResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state envVarModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID, id := state.ProjectID.ValueString(), state.ID.ValueString()
	tflog.Info(ctx, "deleting env var", map[string]any{"project_id": projectID, "id": id, "key": state.Key.ValueString()})
	if err := r.data.Client.DeleteEnvVar(ctx, projectID, id); err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete environment variable", fmt.Sprintf("Deleting %s of project %s: %v", state.Key.ValueString(), projectID, err))
	}
}

// ImportState takes "project/KEY/target": the project by name or id, and
// one of the variable's targets; "project/KEY/preview/BRANCH" for a
// variable of a git branch.
func (r *envVarResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	parts := strings.SplitN(req.ID, "/", 4)
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" || !slices.Contains(allTargets, parts[2]) || len(parts) == 4 && parts[3] == "" {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("Import an environment variable as project/KEY/target, such as hello/API_KEY/production, "+
				"with the project's name or id and one of the variable's targets (%s), or as project/KEY/preview/BRANCH "+
				"for a variable of a git branch; got %q.", strings.Join(allTargets, ", "), req.ID))
		return
	}
	projectRef, key, target, branch := parts[0], parts[1], parts[2], ""
	if len(parts) == 4 {
		branch = parts[3]
	}
	p, err := r.data.Client.GetProject(ctx, projectRef)
	if err != nil {
		resp.Diagnostics.AddError("Cannot import environment variable", fmt.Sprintf("Finding project %q: %v", projectRef, err))
		return
	}
	vars, err := r.data.Client.ListEnvVars(ctx, p.ID, false)
	if err != nil {
		resp.Diagnostics.AddError("Cannot import environment variable", fmt.Sprintf("Listing the variables of project %q: %v", projectRef, err))
		return
	}
	for _, e := range vars {
		if e.Key == key && slices.Contains(e.Targets, target) && e.GitBranch == branch {
			resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), e.ID)...)
			resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), p.ID)...)
			return
		}
	}
	where := "target " + target
	if branch != "" {
		where += " and git branch " + branch
	}
	resp.Diagnostics.AddError("Environment variable not found",
		fmt.Sprintf("Project %q has no variable %s with %s.", projectRef, key, where))
}

func addEnvVarError(diags interface{ AddError(string, string) }, op, projectID string, body api.EnvVarRequest, err error) {
	switch {
	case client.IsConflict(err) && strings.Contains(err.Error(), "by integration"):
		diags.AddError("Duplicate environment variable",
			fmt.Sprintf("The engine refused to %s %s for target %s: %v\n\nA ferry_supabase_integration sets %s for this target: "+
				"remove this ferry_env_var, or the target from one of them.", op, body.Key, strings.Join(body.Targets, ", "), err, body.Key))
	case client.IsConflict(err):
		importID := projectID + "/" + body.Key + "/" + body.Targets[0]
		if body.GitBranch != "" {
			importID += "/" + body.GitBranch
		}
		diags.AddError("Duplicate environment variable",
			fmt.Sprintf("The engine refused to %s %s for target %s: %v\n\nA key may be set once per target (and git branch) "+
				"in a project. Remove the other definition, change target, or import the existing variable with "+
				"`terraform import ferry_env_var.<name> %s`.", op, body.Key, strings.Join(body.Targets, ", "), err, importID))
	default:
		diags.AddError("Cannot "+op+" environment variable",
			fmt.Sprintf("The engine refused to %s %s in project %s: %v", op, body.Key, projectID, err))
	}
}

// plainDigest is the unkeyed hex sha256 that earlier versions kept in
// private state for value_wo; only used to carry such state over.
func plainDigest(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// optionalString maps the engine's "" (an omitted field) to null, unless
// the prior value was "" itself.
func optionalString(engine string, prior types.String) types.String {
	if engine == "" && (prior.IsNull() || prior.IsUnknown() || prior.ValueString() != "") {
		return types.StringNull()
	}
	return types.StringValue(engine)
}
