// Command ferry is the command line of ferry: run an engine, inspect it, stop it.
package main

import (
	"os"

	"github.com/ferryhq/terraform-provider-ferry/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:]))
}
