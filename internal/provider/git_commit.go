package provider

import (
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	datasourceschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// gitCommitFields are the attributes of a deployment's git commit, named as the VERCEL_GIT_*
// variables its app gets, with their descriptions.
var gitCommitFields = []struct{ name, description string }{
	{"provider", "The git host: `github`, `gitlab`, `bitbucket`, the server's host name, or `local` (`VERCEL_GIT_PROVIDER`)."},
	{"repo_owner", "The repository's owner, from its path (`VERCEL_GIT_REPO_OWNER`)."},
	{"repo_slug", "The repository's name (`VERCEL_GIT_REPO_SLUG`)."},
	{"commit_ref", "The branch or tag deployed; empty for a bare commit (`VERCEL_GIT_COMMIT_REF`)."},
	{"commit_sha", "The full commit sha (`VERCEL_GIT_COMMIT_SHA`)."},
	{"commit_message", "The commit message, at most 4 KiB (`VERCEL_GIT_COMMIT_MESSAGE`)."},
	{"commit_author_name", "The commit's author (`VERCEL_GIT_COMMIT_AUTHOR_NAME`)."},
	{"commit_author_login", "The author's login: from a GitHub noreply address, else the local part of the author's email (`VERCEL_GIT_COMMIT_AUTHOR_LOGIN`)."},
}

var gitCommitAttrTypes = func() map[string]attr.Type {
	attrTypes := map[string]attr.Type{}
	for _, f := range gitCommitFields {
		attrTypes[f.name] = types.StringType
	}
	return attrTypes
}()

// gitCommitResourceAttributes are the attributes of a resource's computed git commit.
func gitCommitResourceAttributes() map[string]schema.Attribute {
	attrs := map[string]schema.Attribute{}
	for _, f := range gitCommitFields {
		attrs[f.name] = schema.StringAttribute{Computed: true, MarkdownDescription: f.description}
	}
	return attrs
}

// gitCommitDataSourceAttributes are the attributes of a data source's computed git commit.
func gitCommitDataSourceAttributes() map[string]datasourceschema.Attribute {
	attrs := map[string]datasourceschema.Attribute{}
	for _, f := range gitCommitFields {
		attrs[f.name] = datasourceschema.StringAttribute{Computed: true, MarkdownDescription: f.description}
	}
	return attrs
}

// gitCommitValue is a commit as the git attribute holds it; null for a deployment not from git.
func gitCommitValue(g *api.GitCommit) types.Object {
	if g == nil {
		return types.ObjectNull(gitCommitAttrTypes)
	}
	return types.ObjectValueMust(gitCommitAttrTypes, map[string]attr.Value{
		"provider":            types.StringValue(g.Provider),
		"repo_owner":          types.StringValue(g.RepoOwner),
		"repo_slug":           types.StringValue(g.RepoSlug),
		"commit_ref":          types.StringValue(g.Ref),
		"commit_sha":          types.StringValue(g.SHA),
		"commit_message":      types.StringValue(g.Message),
		"commit_author_name":  types.StringValue(g.AuthorName),
		"commit_author_login": types.StringValue(g.AuthorLogin),
	})
}

// engineGitURL is a repository URL as the engine takes it: a relative local path made
// absolute, since the engine cannot know Terraform's working directory.
func engineGitURL(url string) string {
	if url == "" || strings.Contains(url, "://") || filepath.IsAbs(url) {
		return url
	}
	if before, _, scpLike := strings.Cut(url, ":"); scpLike && !strings.Contains(before, "/") {
		return url // user@host:path
	}
	if abs, err := filepath.Abs(url); err == nil {
		return abs
	}
	return url
}
