package api

// Paths of a deployment's source, read-only, as Vercel's Source tab shows it.
const (
	// GET: the files of the deployment's source as it was uploaded or fetched, as DeploymentFiles.
	PathDeploymentFiles = "/v1/deployments/{deployment}/files"
	// GET: one file's content (application/octet-stream), each path segment escaped; a file over
	// MaxSourceFileBytes is refused with CodeTooLarge.
	PathDeploymentFile = "/v1/deployments/{deployment}/files/{path...}"
)

// MaxSourceFileBytes bounds one source file read through PathDeploymentFile: source, not data.
const MaxSourceFileBytes = 4 << 20

// DeploymentFiles answers PathDeploymentFiles: Files sorted by path.
type DeploymentFiles struct {
	DeploymentID string `json:"deployment_id"`
	Files        []File `json:"files"`
}
