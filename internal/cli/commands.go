package cli

import "github.com/spf13/cobra"

// commands are the constructors of ferry's commands (`ferry --help` lists them by name).
// A new command is a constructor in a file of its own and one line here.
var commands = []func(*console) *cobra.Command{
	// The engine of a data dir.
	newServeCommand,
	newStatusCommand,
	newStopCommand,
	newUpgradeCommand,
	newBackupCommand,
	newRestoreCommand,
	newCACommand,
	newNodesCommand,
	newTeamsCommand,
	newTokensCommand,
	newWebhooksCommand,
	newAuditCommand,
	newKeyCommand,
	// Reaching an engine.
	newLoginCommand,
	newLogoutCommand,
	// The console.
	newProjectsCommand,
	newDeploymentsCommand,
	newInspectCommand,
	newLogsCommand,
	newEnvCommand,
	newDomainsCommand,
	newDashboardCommand,
	newPromoteCommand,
	newRollbackCommand,
	newRedeployCommand,
	newUsageCommand,
	newVersionCommand,
}
