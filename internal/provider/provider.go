// Package provider is the Terraform face of ferry: the provider, its
// resources, and nothing of the engine but the launcher that starts an
// embedded one.
package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Environment variables the provider reads when its block leaves an
// attribute unset.
const (
	EnvEndpoint     = "FERRY_ENDPOINT"
	EnvToken        = "FERRY_TOKEN"
	EnvDataDir      = "FERRY_DATA_DIR"
	EnvHTTPAddress  = "FERRY_HTTP_ADDRESS"
	EnvHTTPSAddress = "FERRY_HTTPS_ADDRESS"
	EnvPython       = "FERRY_PYTHON"
)

var (
	_ provider.Provider              = (*ferryProvider)(nil)
	_ provider.ProviderWithFunctions = (*ferryProvider)(nil)
)

// New returns the provider factory for a release version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &ferryProvider{version: version} }
}

type ferryProvider struct {
	version string
}

type providerModel struct {
	Endpoint     types.String `tfsdk:"endpoint"`
	Token        types.String `tfsdk:"token"`
	DataDir      types.String `tfsdk:"data_dir"`
	HTTPAddress  types.String `tfsdk:"http_address"`
	HTTPSAddress types.String `tfsdk:"https_address"`
	Python       types.String `tfsdk:"python"`
}

// providerData is what resources receive: a client of a healthy engine.
type providerData struct {
	Client *client.Client
	Health api.Health
}

func (p *ferryProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "ferry"
	resp.Version = p.version
}

func (p *ferryProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The ferry provider deploys Python web apps (Flask, FastAPI, any WSGI app) on a self-hosted " +
			"platform. Without `endpoint` it finds or starts the engine embedded in the provider binary for `data_dir`, " +
			"which keeps serving the apps after Terraform exits; with `endpoint` it talks to a remote engine run with `ferry serve`.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "URL of a remote engine, such as `https://ferry.example.com:7443`, or `unix:///path/to/engine.sock` " +
					"for a local one. Leave unset to use the embedded engine of `data_dir`. May also be set with the `" + EnvEndpoint + "` environment variable.",
			},
			"token": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "Bearer token of the remote engine at `endpoint`: the engine's own (operator) token, or a " +
					"team token (`ferry_team_token`, `ferry tokens create`), which reaches only its team's projects with its scopes. " +
					"May also be set with the `" + EnvToken +
					"` environment variable. Not used by the embedded engine, which is reached through a socket only its owner can open.",
			},
			"data_dir": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Directory of the embedded engine's state: its database, encryption key, uploaded files, builds " +
					"and socket. Defaults to `$XDG_DATA_HOME/ferry` (`~/.local/share/ferry`), or `/var/lib/ferry` for root. May also be set with the `" + EnvDataDir +
					"` environment variable. Ignored when `endpoint` is set.",
			},
			"http_address": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "`host:port` where an embedded engine started by this provider serves the apps, such as `127.0.0.1:8080`. " +
					"Defaults to `127.0.0.1:3080` (apps at `http://<project>.localhost:3080`). May also be set with the `" + EnvHTTPAddress + "` environment variable. " +
					"An engine that already runs keeps the address it was started with.",
			},
			"https_address": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "`host:port` where an embedded engine started by this provider serves the apps over HTTPS, such as `127.0.0.1:8443`, or `off`. " +
					"Defaults to `127.0.0.1:3443` (apps at `https://<project>.localhost:3443`, with certificates of the engine's local CA: `ferry ca` prints it for browsers and curl to trust), " +
					"or a free port when that one is taken (`ferry status` shows it). " +
					"May also be set with the `" + EnvHTTPSAddress + "` environment variable. An engine that already runs keeps the address it was started with.",
			},
			"python": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Python interpreter an embedded engine started by this provider builds and runs apps with, such as " +
					"`/usr/local/bin/python3.12`. Defaults to `/usr/bin/python3` on Linux; on macOS to the first found of pyenv's global version, " +
					"Homebrew's, python.org's and the Command Line Tools' `python3`. May also be set with the `" + EnvPython + "` environment variable.",
			},
		},
	}
}

func (p *ferryProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for name, v := range map[string]types.String{
		"endpoint": cfg.Endpoint, "token": cfg.Token, "data_dir": cfg.DataDir,
		"http_address": cfg.HTTPAddress, "https_address": cfg.HTTPSAddress, "python": cfg.Python,
	} {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Provider setting not known at plan time",
				fmt.Sprintf("The ferry provider needs %s before it can plan anything, but it depends on a value known only after apply. "+
					"Set it from a variable or a literal, or apply the resources it depends on first with -target.", name))
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}

	endpoint := stringOrEnv(cfg.Endpoint, EnvEndpoint)
	token := stringOrEnv(cfg.Token, EnvToken)
	userAgent := fmt.Sprintf("terraform-provider-ferry/%s terraform/%s", p.version, req.TerraformVersion)

	var data *providerData
	if endpoint != "" {
		data = p.configureRemote(ctx, endpoint, token, userAgent, &cfg, resp)
	} else {
		if token != "" {
			resp.Diagnostics.AddAttributeWarning(path.Root("token"), "Token ignored",
				"token is used only with endpoint (a remote engine); the embedded engine is reached through its socket.")
		}
		data = p.configureEmbedded(ctx, userAgent, &cfg, resp)
	}
	if data == nil {
		return
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *ferryProvider) configureRemote(ctx context.Context, endpoint, token, userAgent string, cfg *providerModel, resp *provider.ConfigureResponse) *providerData {
	for name, v := range map[string]types.String{"data_dir": cfg.DataDir, "http_address": cfg.HTTPAddress, "https_address": cfg.HTTPSAddress, "python": cfg.Python} {
		if !v.IsNull() {
			resp.Diagnostics.AddAttributeWarning(path.Root(name), "Setting ignored with a remote engine",
				name+" configures the embedded engine; with endpoint set, the remote engine's own settings apply.")
		}
	}
	c, err := client.New(client.Config{Endpoint: endpoint, Token: token, UserAgent: userAgent})
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid ferry endpoint", err.Error())
		return nil
	}
	tflog.Info(ctx, "connecting to remote ferry engine", map[string]any{"endpoint": endpoint})
	h, err := c.Health(ctx)
	if err != nil {
		detail := fmt.Sprintf("Could not reach the ferry engine at %s: %v\n\nCheck that `ferry serve` runs there and that endpoint is right", endpoint, err)
		if e, ok := client.AsError(err); ok && e.Code == api.CodeUnauthorized {
			detail = fmt.Sprintf("The ferry engine at %s refused the token: %v\n\nSet token (or %s) to the engine's API token.", endpoint, err, EnvToken)
		}
		resp.Diagnostics.AddError("Cannot connect to the ferry engine", detail)
		return nil
	}
	if err := client.Compatible(h); err != nil {
		resp.Diagnostics.AddError("Incompatible ferry engine", err.Error())
		return nil
	}
	tflog.Info(ctx, "connected to ferry engine", map[string]any{"engine_version": h.Version, "http_address": h.HTTPAddress})
	return &providerData{Client: c, Health: *h}
}

func (p *ferryProvider) configureEmbedded(ctx context.Context, userAgent string, cfg *providerModel, resp *provider.ConfigureResponse) *providerData {
	dataDir := stringOrEnv(cfg.DataDir, EnvDataDir)
	if dataDir == "" {
		var err error
		if dataDir, err = launcher.DefaultDataDir(); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("data_dir"), "No data directory for the embedded engine", err.Error())
			return nil
		}
	}
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	opts := launcher.Options{
		DataDir:      dataDir,
		HTTPAddress:  stringOrEnv(cfg.HTTPAddress, EnvHTTPAddress),
		HTTPSAddress: stringOrEnv(cfg.HTTPSAddress, EnvHTTPSAddress),
		Python:       stringOrEnv(cfg.Python, EnvPython),
		Version:      version.String(),
	}
	tflog.Info(ctx, "finding or starting the embedded ferry engine", map[string]any{
		"data_dir": opts.DataDir, "http_address": opts.HTTPAddress, "https_address": opts.HTTPSAddress, "python": opts.Python,
	})
	eng, err := launcher.Ensure(ctx, opts)
	if err != nil {
		resp.Diagnostics.AddError("Cannot start the embedded ferry engine",
			fmt.Sprintf("The engine of data_dir %s could not be found or started:\n\n%v\n\n"+
				"Fix the cause above, choose another data_dir (or %s), or point endpoint at a running engine.", opts.DataDir, err, EnvDataDir))
		return nil
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + eng.SocketPath, UserAgent: userAgent})
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("data_dir"), "Unusable data directory", err.Error())
		return nil
	}
	if eng.Replaced != nil {
		tflog.Info(ctx, "upgraded the embedded ferry engine in place", map[string]any{
			"from_version": eng.Replaced.Version, "from_pid": eng.Replaced.PID, "to_version": eng.Health.Version,
		})
	}
	tflog.Info(ctx, "using the embedded ferry engine", map[string]any{
		"pid": eng.Health.PID, "engine_version": eng.Health.Version, "http_address": eng.Health.HTTPAddress,
	})
	if want := opts.HTTPAddress; want != "" && eng.Health.HTTPAddress != "" && want != eng.Health.HTTPAddress {
		resp.Diagnostics.AddAttributeWarning(path.Root("http_address"), "Engine already serves on another address",
			fmt.Sprintf("The engine of %s was started earlier with http_address %s, so apps are served there, not on %s. "+
				"Stop the engine (`ferry stop --data-dir %s`) to restart it on the new address.", opts.DataDir, eng.Health.HTTPAddress, want, opts.DataDir))
	}
	if want := opts.HTTPSAddress; want != "" && want != "off" && want != eng.Health.HTTPSAddress {
		resp.Diagnostics.AddAttributeWarning(path.Root("https_address"), "Engine already serves HTTPS elsewhere",
			fmt.Sprintf("The engine of %s was started earlier with https_address %q, so apps are served there, not on %s. "+
				"Stop the engine (`ferry stop --data-dir %s`) to restart it on the new address.", opts.DataDir, eng.Health.HTTPSAddress, want, opts.DataDir))
	}
	return &providerData{Client: c, Health: eng.Health}
}

func (p *ferryProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewProjectResource,
		NewEnvVarResource,
		NewDeploymentResource,
		NewAliasResource,
		NewSupabaseIntegrationResource,
		NewDomainResource,
		NewTeamResource,
		NewTeamTokenResource,
		NewWebhookResource,
	}
}

func (p *ferryProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{NewSanitizeDatabaseURLFunction}
}

func (p *ferryProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewGitRefDataSource,
		NewDeploymentDataSource,
		NewUsageDataSource,
	}
}

// stringOrEnv returns v, or the environment variable env when v is null.
func stringOrEnv(v types.String, env string) string {
	if !v.IsNull() {
		return v.ValueString()
	}
	return os.Getenv(env)
}

// configureClient extracts the provider's data in a resource's Configure.
// It returns nil before the provider is configured (during validation).
func configureClient(providerDataAny any, diags interface {
	AddError(string, string)
}) *providerData {
	if providerDataAny == nil {
		return nil
	}
	data, ok := providerDataAny.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider.", providerDataAny))
		return nil
	}
	return data
}
